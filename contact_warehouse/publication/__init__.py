"""Publication of the serving file and the one-writer lock of the build file."""

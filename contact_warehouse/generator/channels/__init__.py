"""One module per channel of the contact center. Each function plays one contact of an episode (a call, an
SMS thread, a chat, a help-center visit, a form, a survey invitation), draws from the episode's random
generator, writes its rows through the center's row writer, and returns how the contact ended."""

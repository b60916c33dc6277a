# Sourced by the *_setup.sh scripts: Debian packages from apt-get, as root or through `sudo -n`.
# apt_install SCRIPT HINT PACKAGE...: installs the packages; exits 3 with "SCRIPT: apt-get not found; HINT" when
# there is no apt-get (not Debian).
apt_install() {
    local script=$1 hint=$2
    shift 2
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "$script: apt-get not found; $hint" >&2
        exit 3
    fi
    local sudo=""
    if [[ $(id -u) -ne 0 ]]; then
        sudo="sudo -n"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq "$@"
}

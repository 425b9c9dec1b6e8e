#!/usr/bin/env bash
# Creates .venv at the repository root with Python 3.10 and installs the project with the locked
# dependency set (requirements/constraints.txt). Does nothing when .venv already matches the lock.
#   setup.sh          what `ser` needs, `ser app`'s transcriber included (scripts/demo.sh)
#   setup.sh --test   that, the [test] and [export] extras, Chromium for tests/test_web_page.py and espeak-ng for
#                     the transcription tests (scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  "") mode=run; extras="[app]" ;;
  --test) mode=test; extras="[test,export]" ;;
  *) echo "usage: scripts/setup.sh [--test]" >&2; exit 2 ;;
esac

UV_VERSION=0.13.9

is_python310() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }

find_python310() {
  local candidate
  if candidate=$(command -v python3.10) && is_python310 "$candidate"; then echo "$candidate"; return; fi
  local roots=()
  if command -v pyenv >/dev/null 2>&1; then roots+=("$(pyenv root)"); fi
  roots+=("${PYENV_ROOT:-$HOME/.pyenv}")
  for root in "${roots[@]}"; do
    for candidate in $(ls -d "$root"/versions/3.10.*/bin/python3.10 2>/dev/null | sort -V -r); do
      if is_python310 "$candidate"; then echo "$candidate"; return; fi
    done
  done
  return 1
}

# tests/test_web_page.py drives Debian's Chromium through its chromedriver, and the `ser app` tests speak
# with espeak-ng; install them where apt-get may be used, else say how (those tests then skip). Never
# fails the set-up.
ensure_test_programs() {
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && [ -x /usr/bin/espeak-ng ]; then return 0; fi
  local sudo=""
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: /usr/bin/chromium, /usr/bin/chromedriver or /usr/bin/espeak-ng missing and no apt-get here;" >&2
    echo "setup: install Chromium, its chromedriver and espeak-ng yourself, or tests/test_web_page.py and" >&2
    echo "setup: the transcription tests skip." >&2
    return 0
  fi
  if [ "$(id -u)" != 0 ]; then
    if ! sudo -n true 2>/dev/null; then
      echo "setup: run 'sudo apt-get install chromium chromium-driver espeak-ng', or tests/test_web_page.py" >&2
      echo "setup: and the transcription tests skip." >&2
      return 0
    fi
    sudo="sudo -n"
  fi
  echo "setup: installing Debian's chromium, chromium-driver (tests/test_web_page.py) and espeak-ng (tests/test_app_*.py)"
  if ! { $sudo apt-get update -qq &&
         $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver espeak-ng >/dev/null; }; then
    echo "setup: apt-get could not install chromium chromium-driver espeak-ng; the tests that need them will skip." >&2
  fi
}
if [ "$mode" = test ]; then ensure_test_programs; fi

# One stamp per mode: the test set-up includes the run set-up, not the other way round.
stamp=$(cat setup.py requirements/constraints.txt | sha256sum | cut -d' ' -f1)
stamp_file=.venv/.installed
if [ "$mode" = test ]; then stamp_file=.venv/.installed-test; fi
if [ -x .venv/bin/python ] && [ "$(cat "$stamp_file" 2>/dev/null)" = "$stamp" ]; then
  exit 0
fi

if ! python=$(find_python310); then
  echo "setup: Python 3.10 is required (TFX 1.16's dependencies have no wheels for newer Pythons)," >&2
  echo "setup: and none was found on PATH (python3.10) or under pyenv (\$(pyenv root)/versions/3.10.*)." >&2
  echo "setup: install one, e.g. 'pyenv install 3.10.13', then run this again." >&2
  exit 1
fi
echo "setup: using $python"
if [ ! -x .venv/bin/python ] || ! is_python310 .venv/bin/python; then
  rm -rf .venv
  "$python" -m venv .venv
fi
if .venv/bin/python -m pip install --quiet "uv==$UV_VERSION"; then
  .venv/bin/uv pip install --python .venv/bin/python -c requirements/constraints.txt -e ".$extras"
else
  echo "setup: uv unavailable, installing with pip (slower)"
  .venv/bin/python -m pip install -c requirements/constraints.txt -e ".$extras"
fi
echo "$stamp" > .venv/.installed
if [ "$mode" = test ]; then echo "$stamp" > .venv/.installed-test; fi

#!/bin/sh
# Print the interpreter a Python command name stands for: from PATH if it
# runs there, else from the pyenv versions that provide it (pyenv shims only
# answer for the versions that are active, e.g. python3.13 is not).
name=${1:-python3}
# One start, without site (-I -S): through a pyenv shim each start costs 50-100 ms.
if exe=$("$name" -I -S -c 'import sys; print(sys.executable)' 2>/dev/null); then
	echo "$exe"
	exit 0
fi
if command -v pyenv >/dev/null 2>&1; then
	for candidate in "$(pyenv root)"/versions/*/bin/"$name"; do
		[ -x "$candidate" ] && { echo "$candidate"; exit 0; }
	done
fi
echo "python-path: no interpreter named $name on PATH or in pyenv" >&2
exit 1

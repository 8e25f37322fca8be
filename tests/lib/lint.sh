#!/usr/bin/env bash
# The `make lint` checks: functions the project does not use (curl's
# checksrc idea), then cppcheck over src/. Prints what it finds; exits 1 if
# anything was found. System headers are not shown to cppcheck, so macros
# from them (jansson's json_array_foreach, ...) are not "unknown".
set -u
top=${1:-.}
status=0
banned='\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets|gmtime|localtime|asctime|ctime)\s*\('
if grep -rnE "$banned" "$top/src" --include='*.c' --include='*.h'; then
	echo "lint: banned functions above (use snprintf, strlcpy-style copies, strtol, gmtime_r/localtime_r)"
	status=1
fi
if command -v cppcheck >/dev/null 2>&1; then
	if ! cppcheck --quiet --error-exitcode=1 --std=c11 --inline-suppr \
	    --enable=warning,portability --suppress=missingIncludeSystem \
	    --suppress=unknownMacro \
	    -I "$top/src" "$top/src"; then
		status=1
	fi
fi
exit $status

# symbols.sh -- every exported symbol of lib/ carries the atsm_ prefix.
# The Dovecot plugin loads lib/ into Dovecot's processes, whose own library
# exports many short names; an unprefixed global here could collide.
. "$top_srcdir/tests/tap.sh"

lib="$top_builddir/lib/.libs/libatsmail.a"
if [ ! -f "$lib" ]; then
	tap_fail "convenience library built" "$lib not found"
	tap_done; exit
fi
tap_pass "convenience library built"

# AddressSanitizer adds one "__odr_asan.<name>" indicator per global of
# ours (--enable-sanitizers); judge the name it stands for.
defined=$(nm -g --defined-only "$lib" 2>/dev/null | awk 'NF == 3 { print $3 }' |
	sed 's/^__odr_asan\.//' | sort -u)
count=$(printf '%s\n' "$defined" | grep -c '^atsm_')
# a library that exports nothing would pass the prefix test trivially
if [ "$count" -ge 50 ]; then tap_pass "lib exports its API ($count atsm_ symbols)"
else tap_fail "lib exports its API" "only $count atsm_ symbols"; fi

bad=$(printf '%s\n' "$defined" | grep -v '^atsm_' | grep -v '^$')
tap_is "no exported symbol without the atsm_ prefix" "$bad" ""
tap_done

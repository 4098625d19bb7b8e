#!/usr/bin/perl
# tests/e2e/dsn-sisimai.pl -- what the reference classifier (Sisimai, Debian's
# libsisimai-perl) says of each bounce file named on the command line.
#
# One line per recipient it reports, tab-separated:
#   file  recipient  reason  softbounce  status  action
# softbounce is 0 (hard), 1 (soft) or -1 (no bounce: delivered, vacation,
# feedback).  A file it reports nothing for gets one line with recipient
# "-" so that the comparison (dsn-compare.sh) sees every file.  Used by
# tests/e2e/dsn-sisimai.sh against the bounces the test bed generates,
# beside tests/e2e/dsn-classify (our side, the same format).
use strict;
use warnings;
use Sisimai;

for my $file (@ARGV) {
    my $list = Sisimai->make($file, delivered => 1, vacation => 1) || [];
    my $n = 0;
    for my $d (@$list) {
        my $r = $d->recipient ? $d->recipient->address : '';
        next if $r eq '';
        printf "%s\t%s\t%s\t%s\t%s\t%s\n", $file, lc $r, $d->reason || 'undefined',
            $d->softbounce, $d->deliverystatus || '-', $d->action || '-';
        $n++;
    }
    printf "%s\t-\t-\t-\t-\t-\n", $file if $n == 0;
}

# Charts of a benchmark run, drawn from the data file bench/run writes.
# Usage: gnuplot -e "dat='results/latest.dat'; out='results'" charts.gp
# The data file has three blocks, selected by name:
#   ratios:  label, reel's figure / the peer's (higher is better for reel), the goal or "-"
#   latency: label, reel's /healthz p99 ms, the Express peer's
#   memory:  label, KiB per connection of reel, the Node peer, nginx
# A value not measured is NaN.
set terminal pngcairo size 1000,560 font "DejaVu Sans,11"
set grid xtics ytics lc rgb "#dddddd"
set border 3
set tics nomirror
set key top left

# 1. reel against each peer: bars from parity (1×) to the ratio, on a log
# scale so that 0.5× and 2× are as long; goals as dark ticks across the bar.
set output out."/ratios.png"
set title "reel relative to its peer (× ; right of 1 = reel better)"
set logscale x 10
set xrange [0.1:100]
set format x "%g×"
set yrange [-0.7:*] reverse
set ytics scale 0
set offsets 0, 0, 0, 0.7
set key top right
set arrow 1 from 1, graph 0 to 1, graph 1 nohead lc rgb "#444444"
plot dat index "ratios" using (1):0:($2 < 1 ? $2 : 1):($2 > 1 ? $2 : 1):($0 - 0.35):($0 + 0.35):($2 >= 1 ? 0x2e7d32 : 0xc62828):ytic(1) \
       with boxxyerror fs solid 0.8 noborder lc rgb variable notitle, \
     '' index "ratios" using 3:0:($3 / 1.015):($3 * 1.015):($0 - 0.45):($0 + 0.45) \
       with boxxyerror fs solid 1 noborder lc rgb "#1a237e" title "goal", \
     '' index "ratios" using ($2 < 1 ? NaN : (valid(3) && $3 > $2 ? $3 : $2) * 1.1):0:(sprintf("%.2f×", $2)) \
       with labels left font ",10" notitle, \
     '' index "ratios" using ($2 >= 1 ? NaN : (valid(3) && $3 < $2 ? $3 : $2) / 1.1):0:(sprintf("%.2f×", $2)) \
       with labels right font ",10" notitle
unset arrow 1
set key top left
unset logscale
unset offsets
set ytics scale 1
set yrange [*:*] noreverse
set xrange [*:*]
set format x "%g"

# 2 and 3: grouped bars, reel beside its peers.
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 noborder
set boxwidth 0.9
set xtics scale 0
set logscale y 10
set format y "%g"

set output out."/latency.png"
set title "/healthz p99 latency (ms, log scale): idle and during a login storm of 50 concurrent logins"
set ylabel "p99 ms"
set yrange [0.05:*]
set xrange [-0.5:1.5]
plot dat index "latency" using 2:xtic(1) lc rgb "#2e7d32" title "reel", \
     '' index "latency" using 3 lc rgb "#ef6c00" title "Express peer", \
     '' index "latency" using ($0 - 1.0 / 6):2:(sprintf("%.2f", $2)) with labels offset 0, 0.8 notitle, \
     '' index "latency" using ($0 + 1.0 / 6):3:(sprintf("%.2f", $3)) with labels offset 0, 0.8 notitle, \
     5 with lines dt 2 lc rgb "#c62828" title "reel's goal during the storm: 5 ms"

set output out."/memory.png"
set title "Server memory per connection (KiB, log scale; lower is better)"
set ylabel "KiB per connection"
set yrange [0.5:*]
plot dat index "memory" using 2:xtic(1) lc rgb "#2e7d32" title "reel", \
     '' index "memory" using 3 lc rgb "#ef6c00" title "Express peer (socket.io, fs.createReadStream)", \
     '' index "memory" using 4 lc rgb "#1565c0" title "nginx", \
     '' index "memory" using ($0 - 0.225):2:(sprintf("%.1f", $2)) with labels offset 0, 0.8 notitle, \
     '' index "memory" using ($0):3:(sprintf("%.1f", $3)) with labels offset 0, 0.8 notitle, \
     '' index "memory" using ($0 + 0.225):4:(sprintf("%.1f", $4)) with labels offset 0, 0.8 notitle

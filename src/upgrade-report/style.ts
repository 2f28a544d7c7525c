/** The report's inline stylesheet: system fonts only, print friendly. */
export const STYLES = `
:root{--ink:#111827;--muted:#6b7280;--line:#e5e7eb;--bg:#f6f7f9;--card:#fff;--blue:#2563eb;--green:#16a34a;--red:#dc2626;--amber:#d97706;--violet:#7c3aed}
*{box-sizing:border-box}
html{background:var(--bg)}
body{margin:0;color:var(--ink);font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","Liberation Sans","DejaVu Sans",sans-serif;-webkit-font-smoothing:antialiased}
main{max-width:1120px;margin:0 auto;padding:28px 28px 48px}
h1{font-size:30px;line-height:1.2;margin:4px 0 6px;letter-spacing:-.01em}
h2{font-size:21px;margin:0 0 6px;letter-spacing:-.005em}
h3{font-size:16px;margin:22px 0 4px}
code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono","DejaVu Sans Mono",monospace;background:#eef2f7;border-radius:4px;padding:1px 5px;word-break:break-word}
.eyebrow{text-transform:uppercase;letter-spacing:.08em;font-size:12px;font-weight:600;color:var(--blue)}
.meta{color:var(--muted);margin:0 0 16px;font-size:14px}
.muted{color:var(--muted)}
.small{font-size:13px}
.ok{color:var(--green)}.ko{color:var(--red)}
header.top{background:var(--card);border:1px solid var(--line);border-radius:14px;padding:24px 26px;margin-bottom:22px;box-shadow:0 1px 2px rgba(0,0,0,.04)}
.verdict{display:flex;gap:16px;align-items:flex-start;border-radius:10px;padding:14px 16px;border:1px solid;margin-bottom:16px}
.verdict .badge{flex:none;font-weight:700;font-size:13px;text-transform:uppercase;letter-spacing:.06em;color:#fff;border-radius:999px;padding:5px 12px;margin-top:1px}
.verdict .headline{font-size:18px;font-weight:650;margin:0 0 4px}
.verdict ul{margin:0;padding-left:18px;color:#374151;font-size:14px}
.verdict-pass{background:#f0fdf4;border-color:#bbf7d0}.verdict-pass .badge{background:var(--green)}
.verdict-active{background:#eff6ff;border-color:#bfdbfe}.verdict-active .badge{background:var(--blue)}
.verdict-fail{background:#fef2f2;border-color:#fecaca}.verdict-fail .badge{background:var(--red)}
.verdict-pending{background:#fffbeb;border-color:#fde68a}.verdict-pending .badge{background:var(--amber)}
.verdict-empty{background:#f8fafc;border-color:var(--line)}.verdict-empty .badge{background:#64748b}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px}
.kpi{border:1px solid var(--line);border-radius:10px;padding:10px 14px;background:#fcfcfd}
.kpi-label{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em;font-weight:600}
.kpi-value{font-size:26px;font-weight:650;font-variant-numeric:tabular-nums;line-height:1.3}
.kpi-sub{font-size:12.5px;color:var(--muted);font-variant-numeric:tabular-nums}
.kpi.good .kpi-value{color:var(--green)}.kpi.bad .kpi-value{color:var(--red)}.kpi.warn .kpi-value{color:var(--amber)}
main>section{background:var(--card);border:1px solid var(--line);border-radius:14px;padding:22px 26px;margin-bottom:22px;box-shadow:0 1px 2px rgba(0,0,0,.04)}
.lead{color:#374151;margin:0 0 14px;max-width:78ch}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:18px}
figure.chart-figure{margin:12px 0 6px;padding:12px 12px 8px;border:1px solid var(--line);border-radius:10px;background:#fff;min-width:0}
figure.chart-figure svg.chart{display:block;width:100%;height:auto}
figcaption{font-size:13px;color:var(--muted);margin-top:6px;line-height:1.45}
figcaption code{font-size:12px}
.empty{display:flex;gap:12px;align-items:center;min-height:120px;padding:18px;border:1px dashed #cbd5e1;border-radius:8px;background:#f8fafc;color:#374151;font-size:14px}
.empty-icon{font-size:28px;color:#94a3b8;line-height:1}
svg.chart text{font-family:inherit;font-size:12px;fill:#374151}
svg.chart .tick{font-size:11.5px;fill:var(--muted);font-variant-numeric:tabular-nums}
svg.chart .tick.label,svg.chart .tick.group{fill:#374151;font-size:12px}
svg.chart .value{font-size:11.5px;fill:var(--ink);font-variant-numeric:tabular-nums}
svg.chart .axis-label{font-size:12px;fill:var(--muted)}
svg.chart .legend{font-size:12px;fill:#374151}
svg.chart .lane-key{font-size:13.5px;font-weight:650;fill:var(--ink)}
svg.chart .lane-role{font-size:11.5px;fill:var(--muted)}
svg.chart .bar:hover,svg.chart .event:hover,svg.chart .mark:hover{opacity:.8}
.table-wrap{overflow-x:auto;margin:10px 0}
table{border-collapse:collapse;width:100%;font-size:13.5px;font-variant-numeric:tabular-nums}
th{text-align:left;font-weight:600;color:#374151;background:#f8fafc;border-bottom:1px solid var(--line);padding:7px 10px;white-space:nowrap}
td{border-bottom:1px solid #f1f5f9;padding:6px 10px;vertical-align:top}
tr.focus td{background:#f8fbff}
tr.failed td{background:#fff7f7}
.num{text-align:right}
.nowrap{white-space:nowrap}
.tag{display:inline-block;font-size:11px;font-weight:600;border-radius:999px;padding:0 7px;margin-left:4px;vertical-align:1px}
.tag-candidate{background:#dbeafe;color:#1d4ed8}.tag-baseline{background:#e2e8f0;color:#334155}.tag-active{background:#dcfce7;color:#15803d}.tag-forced{background:#fee2e2;color:#b91c1c}
.state{font-size:12px;font-weight:600;border-radius:6px;padding:1px 7px;background:#f1f5f9;color:#334155}
.state-ready,.state-completed{background:#dcfce7;color:#166534}.state-backfilling,.state-running{background:#fef3c7;color:#92400e}.state-retired,.state-stopped{background:#f1f5f9;color:#64748b}.state-failed{background:#fee2e2;color:#991b1b}
.chip{display:inline-block;font-size:11.5px;font-weight:700;text-transform:uppercase;border-radius:6px;padding:1px 7px;color:#fff}
.chip-pass{background:var(--green)}.chip-fail{background:var(--red)}.chip-skip{background:#94a3b8}
tr.skipped td{color:#64748b}
.delta{display:block;font-size:11.5px}
.delta.up,.delta-inline.up{color:var(--green)}.delta.down,.delta-inline.down{color:var(--red)}.delta.flat,.delta-inline.flat{color:var(--muted)}
.delta-inline{font-weight:600}
table.metrics{font-size:13px}table.metrics th,table.metrics td{padding:4px 8px}table.metrics th.seg,table.metrics td.seg{border-left:1px solid var(--line)}
table.metrics tbody th{background:none;font-weight:600;border-bottom:1px solid #f1f5f9}table.metrics tr.group-start>*{border-top:1px solid var(--line)}table.metrics tr.focus>*{background:#f1f6ff}
.dot{display:inline-block;width:8px;height:8px;border-radius:50%;margin-right:6px;vertical-align:1px}
.details{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono","DejaVu Sans Mono",monospace;color:var(--muted);word-break:break-all}
table.audit td:last-child{max-width:420px}
table.gates td.message{min-width:180px;max-width:320px}
table.gates td:nth-child(2){min-width:160px}
details{margin:12px 0 0}
summary{cursor:pointer;font-weight:600;color:#374151}
ul.notes{margin:6px 0 0;padding-left:18px;color:var(--muted);font-size:13px}
footer{color:var(--muted);font-size:12.5px;text-align:center;padding:8px 0}
@media (max-width:700px){main{padding:12px}.grid2{grid-template-columns:1fr}header.top,main>section{padding:16px}}
@media print{html{background:#fff}header.top,main>section{box-shadow:none;break-inside:avoid-page}figure.chart-figure{break-inside:avoid}}
`;

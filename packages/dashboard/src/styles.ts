// The dashboard's stylesheet, served as /assets/dashboard.css (never inline: the
// Content-Security-Policy allows styles from the dashboard's own origin only).
export const STYLES = `
:root { --fg:#1d2330; --muted:#5c6475; --line:#dfe3ea; --bg:#f6f7f9; --card:#fff;
  --accent:#2457c5; --ok:#1f7a3a; --bad:#b42318; --warn:#9a6700; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--fg); background:var(--bg); }
a { color:var(--accent); text-decoration:none; } a:hover { text-decoration:underline; }
header.top { display:flex; gap:16px; align-items:center; padding:10px 20px; background:#1d2330; color:#fff; flex-wrap:wrap; }
header.top a { color:#fff; font-weight:600; }
header.top form { margin-left:auto; display:flex; gap:6px; }
header.top .ro { background:#9a6700; color:#fff; border-radius:4px; padding:1px 8px; font-size:12px; }
main { padding:16px 20px 40px; max-width:1280px; }
h1 { font-size:20px; margin:6px 0 14px; } h2 { font-size:16px; margin:22px 0 8px; }
table { border-collapse:collapse; width:100%; background:var(--card); border:1px solid var(--line); }
th, td { text-align:left; padding:6px 10px; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:#eef1f5; font-weight:600; font-size:12px; text-transform:uppercase; letter-spacing:.03em; color:var(--muted); }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
td.err { color:var(--bad); max-width:420px; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
pre { background:#0f1420; color:#e6e9ef; padding:12px; border-radius:6px; overflow:auto; max-height:480px; margin:0; white-space:pre-wrap; word-break:break-word; }
.badge { display:inline-block; border-radius:10px; padding:0 8px; font-size:12px; background:#eef1f5; color:var(--muted); }
.badge.paused { background:#fff4d6; color:var(--warn); } .badge.running { background:#e3f4e8; color:var(--ok); }
.badge.dead { background:#fde7e5; color:var(--bad); }
.tabs { display:flex; gap:4px; margin:8px 0 12px; flex-wrap:wrap; }
.tabs a { padding:4px 10px; border-radius:4px; background:#e7eaf0; color:var(--fg); }
.tabs a.on { background:var(--accent); color:#fff; }
.bar { display:flex; gap:8px; align-items:center; flex-wrap:wrap; margin:8px 0; }
button, input[type=submit] { font:inherit; padding:4px 12px; border-radius:4px; border:1px solid #b8c0cc; background:#fff; cursor:pointer; }
button.danger { border-color:var(--bad); color:var(--bad); } button.primary { border-color:var(--accent); color:var(--accent); }
input[type=text], input[type=search], input[type=password], select { font:inherit; padding:3px 6px; border:1px solid #b8c0cc; border-radius:4px; }
dl.fields { display:grid; grid-template-columns:160px 1fr; gap:4px 12px; background:var(--card); border:1px solid var(--line); padding:12px; margin:0; }
dl.fields dt { color:var(--muted); } dl.fields dd { margin:0; word-break:break-word; }
form.inline { display:inline-block; margin:0; }
#flash:empty { display:none; }
.flash { padding:8px 12px; border-radius:6px; margin:8px 0; border:1px solid; }
.flash.ok { background:#e3f4e8; border-color:#9fd3ad; color:#154d27; }
.flash.bad { background:#fde7e5; border-color:#f1aca5; color:#7a1a12; }
.muted { color:var(--muted); } .empty { padding:16px; color:var(--muted); background:var(--card); border:1px solid var(--line); }
svg.chart { display:block; } svg.chart .c { fill:#3f7fe0; } svg.chart .f { fill:#d64545; } svg.chart .axis { stroke:#c9ced8; }
.legend .c, .legend .f { display:inline-block; width:10px; height:10px; margin-right:4px; }
.legend .c { background:#3f7fe0; } .legend .f { background:#d64545; }
.events td { font-size:12px; } .grid2 { display:grid; grid-template-columns:1fr 1fr; gap:16px; }
@media (max-width: 900px) { .grid2 { grid-template-columns:1fr; } }
.login { max-width:380px; margin:60px auto; background:var(--card); border:1px solid var(--line); padding:20px; border-radius:8px; }
.login input { width:100%; margin:8px 0; }
`;

"""The report's inline style and script: nothing is fetched from the network, so the page works
offline and from a copied folder. The script holds no data from papers; it only reads the
``data-*`` attributes the page was written with."""

CSS = """
[hidden]{display:none!important}
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1500px;padding:0 1em;color:#222}
h1{margin:.2em 0}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.grid{display:flex;flex-wrap:wrap;gap:2em;align-items:flex-start}
.funnel{display:grid;grid-template-columns:7em 1fr 16em;gap:4px 10px;align-items:center;max-width:900px}
.bar{height:16px;background:#eee;display:flex}.bar .out{background:#3cb44b}.bar .q{background:#e6194b}
.nums{font-size:12px;color:#444}
.filters{position:sticky;top:0;background:#fff;padding:.5em 0;border-bottom:1px solid #ddd;z-index:2}
.filters label{margin-right:1.2em}
.fig{border-top:2px solid #888;margin-top:1.2em;padding-top:.5em;display:flex;gap:1.5em;flex-wrap:wrap}
.view{position:relative;flex:0 0 auto;align-self:flex-start}.view img{display:block}
.overlay{position:absolute;left:0;top:0;width:100%;height:100%;overflow:visible}
.overlay rect,.overlay line,.overlay path{vector-effect:non-scaling-stroke;stroke-width:2}
.overlay .label-box{stroke-width:1}.overlay .panel-label{font-weight:bold;paint-order:stroke;stroke:#fff;
stroke-width:3px}
.overlay .marker-tip{fill:#ffd700}
.side{flex:1 1 420px;min-width:320px}.caption{background:#fafafa;padding:.4em .6em;border-left:3px solid #bbb}
.sub{padding:0 2px;border-radius:3px}.swatch{display:inline-block;width:.9em;height:.9em;border-radius:2px;
vertical-align:middle;margin-right:.3em}
.texts{font-size:12px;color:#333;margin:.2em 0 .6em 1.2em}.texts dt{font-weight:bold;float:left;width:6em}
.texts dd{margin:0 0 .15em 6.4em}.texts ol{margin:0;padding-left:1.2em}
.flag{color:#fff;background:#b00;border-radius:3px;padding:0 4px;font-size:12px;margin-left:.4em}
.flag.unsure{background:#c60}.reason{color:#b00;font-size:12px}
.muted{color:#777;font-size:12px}
"""

JS = """
(function () {
  const figs = Array.from(document.querySelectorAll('.fig'));
  const qOnly = document.getElementById('f-quarantined');
  const uOnly = document.getElementById('f-unsure');
  const licence = document.getElementById('f-licence');
  const search = document.getElementById('f-search');
  const shown = document.getElementById('shown');
  const qStage = document.getElementById('f-qstage');
  const qRows = Array.from(document.querySelectorAll('tr.q-row'));
  function apply() {
    const needle = search.value.trim().toLowerCase();
    let n = 0;
    for (const f of figs) {
      const ok = (!qOnly.checked || f.dataset.quarantined === '1') &&
                 (!uOnly.checked || f.dataset.unsure === '1') &&
                 (!licence.value || f.dataset.licence === licence.value) &&
                 (!needle || f.textContent.toLowerCase().includes(needle));
      f.hidden = !ok;
      if (ok) n += 1;
    }
    shown.textContent = n + ' of ' + figs.length + ' figures shown';
    shown.dataset.shown = String(n);
    const stage = qStage ? qStage.value : '';
    for (const r of qRows) r.hidden = !!stage && r.dataset.stage !== stage;
  }
  // The fragment presets the filters, so a link can open the page filtered:
  // index.html#quarantined, #unsure, #licence=CC-BY-4.0, #q=arrow
  const preset = new URLSearchParams(location.hash.slice(1));
  qOnly.checked = preset.has('quarantined');
  uOnly.checked = preset.has('unsure');
  if (preset.get('licence')) licence.value = preset.get('licence');
  if (preset.get('q')) search.value = preset.get('q');
  for (const el of [qOnly, uOnly, licence, search, qStage]) if (el) el.addEventListener('input', apply);
  apply();
  document.body.dataset.ready = '1';
})();
"""

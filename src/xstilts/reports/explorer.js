// xstilts explorer: filters -> the score table and the per-language gain heatmap, per model.
// Self-contained: the data is the JSON element #explorer-data; nothing is fetched.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("explorer-data").textContent);
  var FILTERS = ["target", "condition", "language", "model", "seed"];
  var selected = {};
  var index = {};  // "m|t|c|l|s" -> value

  data.values.forEach(function (v) { index[v.slice(0, 5).join("|")] = v[5]; });

  function all(kind) {
    var n = {target: data.targets, condition: data.columns, language: data.languages, model: data.models,
             seed: data.seeds}[kind].length;
    var out = [];
    for (var i = 0; i < n; i++) out.push(i);
    return out;
  }
  FILTERS.forEach(function (kind) { selected[kind] = new Set(all(kind)); });

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function mean(xs) { return xs.reduce(function (a, b) { return a + b; }, 0) / xs.length; }
  function fmt(x, sign) { return (sign && x >= 0 ? "+" : "") + x.toFixed(1); }
  function sorted(set) { return Array.from(set).sort(function (a, b) { return a - b; }); }

  // Mean over the selected languages per seed, then over the selected seeds; with `paired`, only the
  // (language, seed) cells both conditions have. null when nothing is left.
  function score(m, t, c, languages, seeds, paired) {
    var perSeed = [];
    seeds.forEach(function (s) {
      var xs = [];
      languages.forEach(function (l) {
        var v = index[[m, t, c, l, s].join("|")];
        if (v === undefined) return;
        if (paired !== undefined && index[[m, t, paired, l, s].join("|")] === undefined) return;
        xs.push(v);
      });
      if (xs.length) perSeed.push(mean(xs));
    });
    return perSeed.length ? mean(perSeed) : null;
  }

  function gain(m, t, c, languages, seeds) {
    var b = data.baselines[m][c];
    if (b === null || b === undefined || b === c) return null;
    var ours = score(m, t, c, languages, seeds, b), theirs = score(m, t, b, languages, seeds, c);
    return ours === null || theirs === null ? null : ours - theirs;
  }

  function heat(value, limit) {
    // Diverging blue (gain) / red (loss) on white, as the report's heatmaps (RdBu).
    var x = Math.max(-1, Math.min(1, value / (limit || 1)));
    var a = Math.abs(x), base = x >= 0 ? [33, 102, 172] : [178, 24, 43];
    var rgb = base.map(function (ch) { return Math.round(255 + (ch - 255) * a); });
    return "rgb(" + rgb.join(",") + ")";
  }

  // ------------------------------------------------------------------ filters

  function labelOf(kind, i) {
    if (kind === "target") return data.targets[i].name;
    if (kind === "condition") return data.columns[i].label;
    if (kind === "language") {
      var lg = data.languages[i], extra = [];
      if (lg.distance !== null && lg.distance !== undefined) extra.push(lg.distance.toFixed(2));
      if (lg.family) extra.push(lg.family);
      return lg.code + (extra.length ? " (" + extra.join(", ") + ")" : "");
    }
    if (kind === "model") return data.models[i];
    return "seed " + data.seeds[i];
  }

  function valueOf(kind, i) {
    if (kind === "target") return data.targets[i].id;
    if (kind === "condition") return data.columns[i].label;
    if (kind === "language") return data.languages[i].code;
    if (kind === "model") return data.models[i];
    return data.seeds[i];
  }

  function setAll(kind, members) {
    selected[kind] = new Set(members);
    document.querySelectorAll('input[data-filter="' + kind + '"]').forEach(function (box) {
      box.checked = selected[kind].has(Number(box.dataset.index));
    });
    render();
  }

  function buildFilters() {
    var root = document.getElementById("filters");
    var titles = {target: "Target tasks", condition: "Conditions", language: "Languages", model: "Models",
                  seed: "Seeds"};
    FILTERS.forEach(function (kind) {
      var box = el("fieldset", {"class": "filter", id: "filter-" + kind});
      box.appendChild(el("legend", {}, titles[kind]));
      var quick = el("div", {"class": "quick"});
      var allButton = el("button", {type: "button", "data-all": kind}, "all");
      allButton.addEventListener("click", function () { setAll(kind, all(kind)); });
      var noneButton = el("button", {type: "button", "data-none": kind}, "none");
      noneButton.addEventListener("click", function () { setAll(kind, []); });
      quick.appendChild(allButton);
      quick.appendChild(noneButton);
      if (kind === "language") {
        data.groups.forEach(function (group) {
          var members = group.languages.map(function (code) {
            return data.languages.findIndex(function (lg) { return lg.code === code; });
          });
          var button = el("button", {type: "button", "data-group": group.kind + ":" + group.name,
                                     title: group.languages.join(", ")}, group.kind + ": " + group.name);
          button.addEventListener("click", function () { setAll("language", members); });
          quick.appendChild(button);
        });
      }
      box.appendChild(quick);
      all(kind).forEach(function (i) {
        var label = el("label", {"class": "option"});
        var input = el("input", {type: "checkbox", "data-filter": kind, "data-index": String(i),
                                 value: valueOf(kind, i)});
        input.checked = true;
        input.addEventListener("change", function () {
          if (input.checked) selected[kind].add(i); else selected[kind].delete(i);
          render();
        });
        label.appendChild(input);
        if (kind === "condition") {
          label.appendChild(el("span", {"class": "swatch", style: "background:" + data.columns[i].colour}));
        }
        label.appendChild(document.createTextNode(" " + labelOf(kind, i)));
        box.appendChild(label);
      });
      root.appendChild(box);
    });
  }

  // ------------------------------------------------------------------ views

  function scoreTable(m, targets, columns, languages, seeds) {
    var table = el("table", {"class": "scores", "data-model": data.models[m]});
    table.appendChild(el("caption", {}, "Score (gain over the baseline), " + data.models[m] + ": mean over " +
                         languages.length + " language(s) and " + seeds.length + " seed(s)"));
    var head = el("tr");
    head.appendChild(el("th", {}, "target \\ condition"));
    columns.forEach(function (c) {
      var th = el("th", {"data-column": data.columns[c].label});
      th.appendChild(el("span", {"class": "swatch", style: "background:" + data.columns[c].colour}));
      th.appendChild(document.createTextNode(" " + data.columns[c].label));
      head.appendChild(th);
    });
    var thead = el("thead");
    thead.appendChild(head);
    table.appendChild(thead);
    var body = el("tbody"), sums = columns.map(function () { return []; });
    targets.forEach(function (t) {
      var row = el("tr");
      row.appendChild(el("td", {}, data.targets[t].name));
      columns.forEach(function (c, k) {
        var value = score(m, t, c, languages, seeds);
        var delta = value === null ? null : gain(m, t, c, languages, seeds);
        var td = el("td", {"data-target": data.targets[t].id, "data-column": data.columns[c].label},
                    value === null ? "" : fmt(value) + (delta === null ? "" : " (" + fmt(delta, true) + ")"));
        if (value !== null) { td.dataset.score = value.toFixed(4); sums[k].push(value); }
        if (delta !== null) td.dataset.gain = delta.toFixed(4);
        row.appendChild(td);
      });
      body.appendChild(row);
    });
    if (targets.length > 1) {
      var avg = el("tr", {"class": "average"});
      avg.appendChild(el("td", {}, "plain mean of the tasks above"));
      sums.forEach(function (xs) {
        avg.appendChild(el("td", {}, xs.length === targets.length ? fmt(mean(xs)) : ""));
      });
      body.appendChild(avg);
    }
    table.appendChild(body);
    return table;
  }

  function heatmap(m, targets, columns, languages, seeds) {
    var rows = [];
    targets.forEach(function (t) {
      columns.forEach(function (c) {
        if (data.columns[c].kind !== "intermediate") return;
        var cells = languages.map(function (l) { return gain(m, t, c, [l], seeds); });
        if (cells.some(function (x) { return x !== null; })) rows.push({t: t, c: c, cells: cells});
      });
    });
    var limit = 0;
    rows.forEach(function (r) { r.cells.forEach(function (x) { if (x !== null) limit = Math.max(limit, Math.abs(x)); }); });
    var table = el("table", {"class": "heatmap", "data-model": data.models[m]});
    table.appendChild(el("caption", {}, "Gain over the baseline per language, " + data.models[m] + " (" +
                         seeds.length + " seed(s)); blue: gain, red: loss"));
    var head = el("tr");
    head.appendChild(el("th", {}, "target"));
    head.appendChild(el("th", {}, "condition"));
    languages.forEach(function (l) { head.appendChild(el("th", {"data-language": data.languages[l].code}, data.languages[l].code)); });
    var thead = el("thead");
    thead.appendChild(head);
    table.appendChild(thead);
    var body = el("tbody");
    rows.forEach(function (r) {
      var row = el("tr");
      row.appendChild(el("td", {}, data.targets[r.t].name));
      var name = el("td", {});
      name.appendChild(el("span", {"class": "swatch", style: "background:" + data.columns[r.c].colour}));
      name.appendChild(document.createTextNode(" " + data.columns[r.c].label));
      row.appendChild(name);
      r.cells.forEach(function (x, k) {
        var td = el("td", {"class": "heat", "data-target": data.targets[r.t].id,
                           "data-column": data.columns[r.c].label, "data-language": data.languages[languages[k]].code},
                    x === null ? "n/a" : fmt(x, true));
        if (x === null) td.classList.add("missing"); else { td.dataset.gain = x.toFixed(4); td.style.background = heat(x, limit); }
        if (x !== null && Math.abs(x) > 0.6 * limit) td.style.color = "white";
        row.appendChild(td);
      });
      body.appendChild(row);
    });
    table.appendChild(body);
    return rows.length ? table : el("p", {"class": "empty"}, "No per-language gain for this selection.");
  }

  function render() {
    var views = document.getElementById("views");
    views.textContent = "";
    var targets = sorted(selected.target), columns = sorted(selected.condition);
    var languages = sorted(selected.language), seeds = sorted(selected.seed), models = sorted(selected.model);
    var status = el("p", {id: "status"}, targets.length + " task(s), " + columns.length + " condition(s), " +
                    languages.length + " language(s), " + models.length + " model(s), " + seeds.length + " seed(s)");
    views.appendChild(status);
    if (!targets.length || !columns.length || !languages.length || !seeds.length || !models.length) {
      views.appendChild(el("p", {"class": "empty"}, "Select at least one of each filter."));
      return;
    }
    models.forEach(function (m) {
      var section = el("section", {"class": "model", "data-model": data.models[m]});
      section.appendChild(el("h2", {}, data.models[m]));
      section.appendChild(scoreTable(m, targets, columns, languages, seeds));
      section.appendChild(heatmap(m, targets, columns, languages, seeds));
      views.appendChild(section);
    });
  }

  buildFilters();
  render();
  document.body.dataset.ready = "true";
})();

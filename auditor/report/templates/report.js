/* auditor HTML report: filters, jumping between the lists and the text, the metrics table.
   Reads its data from the JSON block; builds DOM with textContent only (never innerHTML). */
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("report-data").textContent);
  var R = DATA.report, S = DATA.strings, F = R.findings, LIMIT = DATA.limit || 150;
  var RANK = { error: 3, warning: 2, info: 1 };
  var doc = document, root = doc.documentElement;

  function fmt(s, o) {
    return s.replace(/\{(\w+)\}/g, function (m, k) { return Object.prototype.hasOwnProperty.call(o, k) ? o[k] : m; });
  }
  function $all(sel, el) { return Array.prototype.slice.call((el || doc).querySelectorAll(sel)); }

  /* ------------------------------------------------------------------ filters */
  var form = doc.getElementById("filters");
  var marks = $all("mark[data-f]");
  var markIds = marks.map(function (m) { return m.getAttribute("data-f").split(" ").map(Number); });
  var asides = $all("aside.flist");
  var cards = $all(".pair[data-i], .yoy-card[data-i]");
  var rels = $all(".rel[data-back]"), backs = $all("a.back[data-i]");

  function state() {
    var st = { sev: {}, cat: null, rule: "", sup: false };
    if (!form) { st.sev = { error: 1, warning: 1, info: 1 }; return st; }
    $all("input[name=sev]", form).forEach(function (cb) { if (cb.checked) st.sev[cb.value] = 1; });
    var cats = $all("input[name=cat]", form);
    if (cats.length) {
      st.cat = {};
      cats.forEach(function (cb) { if (cb.checked) st.cat[cb.value] = 1; });
    }
    if (form.elements.rule) st.rule = form.elements.rule.value;
    var sup = form.querySelector("input[name=sup]");
    st.sup = !!(sup && sup.checked);
    return st;
  }

  function isVisible(f, st) {
    if (f.suppressed !== undefined && !st.sup) return false;
    if (!st.sev[f.severity]) return false;
    if (st.cat && !st.cat[f.category]) return false;
    if (st.rule && f.rule !== st.rule) return false;
    return true;
  }

  var vis = [];
  function apply() {
    var st = state();
    vis = F.map(function (f) { return isVisible(f, st); });
    marks.forEach(function (m, j) {
      var ids = markIds[j], best = null, rank = 0, n = 0;
      for (var x = 0; x < ids.length; x++) {
        var i = ids[x];
        if (!vis[i]) continue;
        n++;
        if (RANK[F[i].severity] > rank) { rank = RANK[F[i].severity]; best = F[i].severity; }
      }
      m.classList.remove("s-error", "s-warning", "s-info");
      m.classList.add("s-" + (best || F[ids[0]].severity));
      m.classList.toggle("off", !best);
      m.classList.toggle("multi", n > 1);
      m.tabIndex = best ? 0 : -1;
    });
    rels.forEach(function (el) {
      var on = el.getAttribute("data-back").split(" ").some(function (i) { return vis[+i]; });
      el.classList.toggle("off", !on);
    });
    backs.forEach(function (el) { el.classList.toggle("off", !vis[+el.getAttribute("data-i")]); });
    asides.forEach(updateList);
    cards.forEach(function (c) { c.classList.toggle("filtered", !vis[+c.getAttribute("data-i")]); });
    var total = 0, shown = 0;
    F.forEach(function (f, i) {
      if (f.suppressed === undefined || st.sup) total++;
      if (vis[i]) shown++;
    });
    var out = doc.getElementById("f-status");
    if (out) out.textContent = fmt(S.showing, { shown: shown, total: total });
  }

  function updateList(aside) {
    var limit = aside._limit || LIMIT, matched = 0;
    $all("li.finding", aside).forEach(function (li) {
      var ok = vis[+li.getAttribute("data-i")];
      li.classList.toggle("filtered", !ok);
      if (ok) matched++;
      li.classList.toggle("cap", ok && matched > limit && !li._pinned);
    });
    var more = aside.querySelector("button.more");
    if (more) {
      var rest = matched - limit;
      more.hidden = rest <= 0;
      more.textContent = rest > 0 ? fmt(S.show_more, { n: Math.min(rest, LIMIT), rest: rest }) : "";
    }
  }

  if (form) {
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    form.addEventListener("reset", function () { setTimeout(apply, 0); });
  }

  /* ------------------------------------------------------------------ jumping and flashing */
  function flash(els) {
    els.forEach(function (el) {
      clearTimeout(el._flashTimer);
      el.classList.remove("flash");
      void el.offsetWidth; // restart the animation
      el.classList.add("flash");
      el._flashTimer = setTimeout(function () { el.classList.remove("flash"); }, 2200);
    });
  }

  function scrollToEl(el) {
    if (el) el.scrollIntoView({ block: "center", inline: "nearest", behavior: "auto" });
  }

  function selectItem(i, scrollList) {
    $all("li.finding.sel").forEach(function (li) { li.classList.remove("sel"); });
    var li = doc.getElementById("fi-" + i);
    if (!li) return;
    li.classList.add("sel");
    if (li.classList.contains("cap")) { li._pinned = true; li.classList.remove("cap"); }
    if (scrollList) {
      var aside = li.closest("aside");
      if (aside) aside.scrollTop = Math.max(0, li.offsetTop - aside.clientHeight / 3);
      flash([li]);
    }
  }

  function goFinding(i) {
    var segs = $all('mark[data-f~="' + i + '"]');
    var target = segs[0] || doc.getElementById("f-" + i);
    scrollToEl(target);
    if (segs.length) {
      flash(segs);
      try { segs[0].focus({ preventScroll: true }); } catch (e) { /* old browsers */ }
    }
    selectItem(i, false);
  }

  function goRelated(i, k) {
    var anchor = doc.getElementById("r-" + i + "-" + k);
    if (!anchor) return;
    var segs = [];
    // the related span's segments follow its anchor; collect those that name this finding
    $all('.rel[data-back~="' + i + '"]').forEach(function (s) {
      if (anchor.compareDocumentPosition(s) & Node.DOCUMENT_POSITION_FOLLOWING) segs.push(s);
    });
    var back = $all('a.back[data-i="' + i + '"]').filter(function (b) {
      return anchor.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING;
    })[0];
    if (back) segs = segs.filter(function (s) { return !(back.compareDocumentPosition(s) & Node.DOCUMENT_POSITION_FOLLOWING); });
    scrollToEl(segs[0] || anchor);
    flash(segs);
    if (back) try { back.focus({ preventScroll: true }); } catch (e) { /* ignore */ }
  }

  function goMetric(k) {
    var anchor = doc.getElementById("m-" + k);
    var segs = $all('.q[data-m~="' + k + '"]');
    scrollToEl(segs[0] || anchor);
    flash(segs);
  }

  function go(target) {
    var m = /^([frm])-(\d+)(?:-(\d+))?$/.exec(target || "");
    if (!m) return false;
    if (m[1] === "f") goFinding(+m[2]);
    else if (m[1] === "r") goRelated(+m[2], +m[3]);
    else goMetric(+m[2]);
    return true;
  }

  doc.addEventListener("click", function (e) {
    var t = e.target;
    var link = t.closest("a[data-target]");
    if (link) {
      if (go(link.getAttribute("data-target"))) e.preventDefault();
      return;
    }
    var more = t.closest("aside.flist button.more");
    if (more) {
      var aside = more.closest("aside");
      aside._limit = (aside._limit || LIMIT) + LIMIT;
      updateList(aside);
      return;
    }
    var only = t.closest("button.only-rule");
    if (only && form) {
      form.elements.rule.value = only.getAttribute("data-rule");
      apply();
      scrollToEl(doc.getElementById("documents"));
      return;
    }
    var li = t.closest("li.finding");
    if (li && !t.closest("a")) { goFinding(+li.getAttribute("data-i")); return; }
    var mark = t.closest("mark[data-f]");
    if (mark && !mark.classList.contains("off")) { pickFromMark(mark); return; }
    var rel = t.closest(".rel[data-back]");
    if (rel) goFinding(+rel.getAttribute("data-back").split(" ")[0]);
  });

  function pickFromMark(mark) {
    var ids = mark.getAttribute("data-f").split(" ").map(Number).filter(function (i) { return vis[i]; });
    if (ids.length) selectItem(ids[0], true);
  }

  /* ------------------------------------------------------------------ tooltip on keyboard focus */
  var tip = doc.getElementById("tip");
  function showTip(mark) {
    if (!tip || mark.classList.contains("off")) return;
    var ids = mark.getAttribute("data-f").split(" ").map(Number).filter(function (i) { return vis[i]; });
    tip.textContent = ids.map(function (i) {
      return F[i].rule + " " + (S[F[i].severity] || F[i].severity) + ": " + F[i].message;
    }).join("\n");
    tip.hidden = false;
    var r = mark.getBoundingClientRect();
    var left = Math.min(r.left + window.scrollX, window.scrollX + root.clientWidth - tip.offsetWidth - 8);
    tip.style.left = Math.max(4, left) + "px";
    tip.style.top = (r.bottom + window.scrollY + 6) + "px";
  }
  function hideTip() { if (tip) tip.hidden = true; }
  doc.addEventListener("focusin", function (e) {
    var mark = e.target.closest && e.target.closest("mark[data-f]");
    if (mark) showTip(mark); else hideTip();
  });
  doc.addEventListener("focusout", function (e) {
    if (e.target.closest && e.target.closest("mark[data-f]")) hideTip();
  });
  doc.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { hideTip(); return; }
    if (e.key === "Enter" || e.key === " ") {
      var mark = e.target.closest && e.target.closest("mark[data-f]");
      if (mark) { e.preventDefault(); pickFromMark(mark); return; }
      var li = e.target.closest && e.target.closest("li.finding");
      if (li && e.target === li) { e.preventDefault(); goFinding(+li.getAttribute("data-i")); }
    }
  });

  /* ------------------------------------------------------------------ metrics table */
  var table = doc.getElementById("m-table");
  var mt = { key: null, dir: 1, q: "", limit: 300 };
  var rows = [];
  if (table) {
    var names = {};
    DATA.docs.forEach(function (d) { names[d.path] = d.name; });
    rows = R.metrics.map(function (m, k) {
      var r = {
        k: k, document: names[m.document] || m.document, text: m.text, value: m.value, unit: m.unit || "",
        approx: m.approx || "", label: m.label || "", metric: m.metric || "", entity: m.entity || "",
        year: m.year
      };
      r.hay = [r.document, r.text, r.value, r.unit, r.approx, r.label, r.metric, r.entity, r.year].join("\u0001").toLowerCase();
      return r;
    });
    var numberFmt = new Intl.NumberFormat(DATA.lang === "en" ? "en" : "zh-CN", { maximumFractionDigits: 4 });
    var filterBox = doc.getElementById("m-filter"), status = doc.getElementById("m-status");
    var moreBtn = doc.getElementById("m-more"), tbody = table.tBodies[0];
    var KEYS = ["document", "text", "value", "unit", "approx", "label", "metric", "entity", "year"];

    var compare = function (a, b) {
      var x = a[mt.key], y = b[mt.key];
      var xe = x === null || x === undefined || x === "", ye = y === null || y === undefined || y === "";
      if (xe || ye) return xe === ye ? a.k - b.k : (xe ? 1 : -1); // empty cells last either way
      var c = (typeof x === "number" && typeof y === "number") ? x - y : String(x).localeCompare(String(y), "zh-CN");
      return (c * mt.dir) || (a.k - b.k);
    };

    var renderTable = function () {
      var q = mt.q.trim().toLowerCase();
      var list = q ? rows.filter(function (r) { return r.hay.indexOf(q) !== -1; }) : rows.slice();
      if (mt.key) list.sort(compare);
      var frag = doc.createDocumentFragment();
      list.slice(0, mt.limit).forEach(function (r) {
        var tr = doc.createElement("tr");
        KEYS.forEach(function (key) {
          var td = doc.createElement("td");
          var v = r[key];
          if (key === "text") {
            var a = doc.createElement("a");
            a.href = "#m-" + r.k;
            a.setAttribute("data-target", "m-" + r.k);
            a.textContent = v;
            td.appendChild(a);
          } else if (key === "value") {
            td.className = "num";
            td.textContent = (v === null || v === undefined) ? "—" : numberFmt.format(v);
          } else {
            if (key === "year") td.className = "num";
            if (key === "document") { td.className = "doc"; td.title = v; }
            td.textContent = (v === null || v === undefined) ? "" : String(v);
          }
          tr.appendChild(td);
        });
        frag.appendChild(tr);
      });
      tbody.textContent = "";
      tbody.appendChild(frag);
      var shown = Math.min(list.length, mt.limit);
      status.textContent = fmt(S.m_rows, { shown: shown, total: list.length });
      var rest = list.length - shown;
      moreBtn.hidden = rest <= 0;
      moreBtn.textContent = rest > 0 ? fmt(S.show_more, { n: Math.min(rest, 300), rest: rest }) : "";
    };

    $all("th[data-key]", table).forEach(function (th) {
      th.addEventListener("click", function () {
        var key = th.getAttribute("data-key");
        mt.dir = mt.key === key ? -mt.dir : 1;
        mt.key = key;
        $all("th[data-key]", table).forEach(function (o) { o.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", mt.dir > 0 ? "ascending" : "descending");
        renderTable();
      });
    });
    var timer = null;
    filterBox.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { mt.q = filterBox.value; mt.limit = 300; renderTable(); }, 120);
    });
    moreBtn.addEventListener("click", function () { mt.limit += 300; renderTable(); });
    renderTable();
  }

  /* ------------------------------------------------------------------ printing: expand everything */
  var saved = null;
  window.addEventListener("beforeprint", function () {
    $all("details").forEach(function (d) { d.open = true; });
    if (table) { saved = mt.limit; mt.limit = Infinity; renderTable(); }
  });
  window.addEventListener("afterprint", function () {
    if (table && saved !== null) { mt.limit = saved; renderTable(); }
  });

  /* ------------------------------------------------------------------ start */
  function setBar() {
    if (form) root.style.setProperty("--bar-h", form.offsetHeight + "px");
  }
  setBar();
  window.addEventListener("resize", setBar);
  apply();
  if (location.hash && go(location.hash.slice(1))) { /* opened on a finding */ }
  root.classList.add("js");
})();

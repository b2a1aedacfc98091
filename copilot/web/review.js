// Compliance review page: the queue of blocked and flagged drafts and checks, and the reviewer's
// correct/wrong decision with a note. Shown only to compliance and admin users.
// Same rule as app.js: every piece of message text reaches the page as text (el()), never as markup.
"use strict";

(() => {
  const { $, el, clear, show, setStatus, getJSON, postJSON, explain, renderHighlighted, VERDICT, SEVERITY, CHANNEL } =
    window.copilotPanel;
  const REVIEWERS = ["compliance", "admin"];
  const KIND = { draft: "草稿", check: "合规检查" };
  const DECISION = { correct: "正确", wrong: "有误" };
  const SOURCE = { rule: "规则", model: "模型" };
  const PAGE = 20;
  const state = { categories: {}, offset: 0, total: 0, loaded: false };

  const tabButton = () => document.querySelector("[data-tab=review]");

  document.addEventListener("copilot:signed-in", async (e) => {
    const allowed = REVIEWERS.includes(e.detail.role);
    show(tabButton(), allowed);
    if (!allowed) return;
    try {
      state.categories = await getJSON("/v1/reviews/categories");
      const select = $("review-category");
      if (select.options.length === 1) {
        for (const [id, name] of Object.entries(state.categories)) {
          select.append(el("option", { value: id, title: id }, name));
        }
      }
    } catch (err) {
      setStatus($("review-status"), explain(err), "error");
    }
  });
  document.addEventListener("copilot:signed-out", () => {
    show(tabButton(), false);
    clear($("review-list"));
    state.loaded = false;
  });

  function wire() {
    tabButton().addEventListener("click", () => { if (!state.loaded) load(0); });
    $("review-form").addEventListener("submit", (e) => { e.preventDefault(); load(0); });
    $("review-prev").addEventListener("click", () => load(Math.max(0, state.offset - PAGE)));
    $("review-next").addEventListener("click", () => load(state.offset + PAGE));
  }

  function filters() {
    return {
      decided: $("review-decided").value,
      category: $("review-category").value,
      segment: $("review-segment").value,
      rm: $("review-rm").value.trim(),
    };
  }

  async function load(offset) {
    const list = $("review-list");
    setStatus($("review-status"), "正在加载复核队列…", "busy");
    try {
      const page = await getJSON("/v1/reviews", { ...filters(), limit: PAGE, offset });
      state.loaded = true;
      state.offset = page.offset;
      state.total = page.total;
      clear(list);
      for (const item of page.items) list.append(renderItem(item));
      setStatus($("review-status"), page.total ? `共 ${page.total} 条` : "没有符合条件的记录。");
      const last = Math.min(page.offset + page.items.length, page.total);
      $("review-page").textContent = page.total ? `第 ${page.offset + 1}–${last} 条` : "";
      $("review-prev").disabled = page.offset === 0;
      $("review-next").disabled = last >= page.total;
    } catch (err) {
      setStatus($("review-status"), explain(err), "error");
    }
  }

  // Segment names as the filter's own options spell them (one list, in index.html).
  function segmentName(id) {
    const opt = [...$("review-segment").options].find((o) => o.value === id);
    return opt ? opt.textContent : id;
  }

  function categoryName(id) {
    return state.categories[id] || id;
  }

  function renderItem(item) {
    const v = VERDICT[item.verdict] || VERDICT.block;
    const when = item.created_at.slice(0, 16).replace("T", " ");
    const card = el("li", { class: "card review-item", dataset: { auditId: item.audit_id } },
      el("div", { class: "result-head" },
        el("span", { class: "badge " + v.cls }, v.label),
        el("strong", {}, KIND[item.kind] || item.kind),
        el("span", { class: "small muted" },
          [when + " UTC", `客户经理 ${item.rm}`, item.segment && segmentName(item.segment),
            CHANNEL[item.channel] || item.channel].filter(Boolean).join(" · "))),
      item.message ? el("div", { class: "small muted" }, "客户消息：", el("q", {}, item.message)) : null);
    const text = el("div", { class: "bubble-text review-text" });
    renderHighlighted(text, item.text, item.findings || []);
    card.append(text);
    if (item.revised) card.append(el("div", { class: "small suggestion" }, "建议修改为：", item.revised));
    card.append(renderFindings(item.findings || []));
    card.append(renderDecision(item));
    card.append(decisionForm(item, card));
    return card;
  }

  function renderFindings(findings) {
    const list = el("ul", { class: "findings" });
    for (const f of findings) {
      const origin = [f.source ? `来源：${SOURCE[f.source] || f.source}` : null,
        typeof f.score === "number" ? `置信度 ${f.score.toFixed(2)}` : null].filter(Boolean).join(" · ");
      list.append(el("li", { class: "finding sev-" + f.severity },
        el("span", { class: "sev-tag" }, SEVERITY[f.severity] || f.severity),
        el("span", { class: "finding-cat" }, categoryName(f.category)),
        el("span", { class: "small muted" }, ` ${f.rule}`),
        el("div", { class: "finding-msg" }, f.message || ""),
        f.text ? el("div", { class: "small" }, "原文：", el("q", {}, f.text)) : null,
        origin ? el("div", { class: "small muted finding-origin" }, origin) : null));
    }
    return list;
  }

  function renderDecision(item) {
    const d = item.decision;
    if (!d) return el("p", { class: "review-decision small muted" }, "待复核");
    const right = d.decision === "wrong"
      ? [d.expected_verdict ? `正确结论：${(VERDICT[d.expected_verdict] || {}).label || d.expected_verdict}` : null,
        d.categories ? `正确类别：${d.categories.map(categoryName).join("、") || "无"}` : null].filter(Boolean).join("；")
      : "";
    return el("p", { class: "review-decision small decided-" + d.decision },
      `已复核：${DECISION[d.decision]}（${d.reviewer}，${d.decided_at.slice(0, 16).replace("T", " ")} UTC）`,
      right ? `。${right}` : "",
      d.note ? el("span", { class: "muted" }, `。说明：${d.note}`) : "",
      item.decisions > 1 ? el("span", { class: "muted" }, `（共 ${item.decisions} 次复核，以最新为准）`) : "");
  }

  function decisionForm(item, card) {
    const note = el("textarea", { class: "review-note", rows: 2, maxlength: 1000,
      placeholder: "复核说明（结论有误时必填）" });
    const verdict = el("select", { class: "review-verdict", "aria-label": "正确结论" },
      el("option", { value: "" }, "正确结论：不指定"),
      ...Object.entries(VERDICT).map(([k, x]) => el("option", { value: k }, `正确结论：${x.label}`)));
    const cats = el("select", { class: "review-categories", multiple: true, size: 4, "aria-label": "正确类别" },
      ...Object.entries(state.categories).filter(([id]) => id !== "internal")
        .map(([id, name]) => el("option", { value: id }, name)));
    const status = el("p", { class: "status review-form-status", "aria-live": "polite" });
    const decide = async (decision) => {
      const body = { decision, note: note.value };
      if (decision === "wrong") {
        if (verdict.value) body.expected_verdict = verdict.value;
        const chosen = [...cats.selectedOptions].map((o) => o.value);
        if (chosen.length || verdict.value === "pass") body.categories = chosen;
      }
      setStatus(status, "正在记录…", "busy");
      try {
        const updated = await postJSON(`/v1/reviews/${encodeURIComponent(item.audit_id)}`, body);
        card.replaceWith(renderItem(updated));
      } catch (err) {
        setStatus(status, explain(err), "error");
      }
    };
    return el("div", { class: "review-form" },
      note,
      el("details", { class: "small" }, el("summary", {}, "结论有误时：给出正确结论与类别（可选）"),
        el("div", { class: "row wrap" }, verdict, cats)),
      el("div", { class: "actions" },
        el("button", { type: "button", class: "review-correct", onclick: () => decide("correct") }, "结论正确"),
        el("button", { type: "button", class: "review-wrong", onclick: () => decide("wrong") }, "结论有误")),
      status);
  }

  document.addEventListener("DOMContentLoaded", wire);
})();

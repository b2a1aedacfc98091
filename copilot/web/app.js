// RM chat panel. Plain JS, no build step, nothing loaded from elsewhere.
// Rule: every piece of user or model text reaches the page through textContent (see el()),
// never innerHTML, so a message containing HTML shows as text.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = "copilot.token";
  const VERDICT = {
    pass: { label: "合规通过", cls: "pass" },
    revise: { label: "需修改", cls: "revise" },
    block: { label: "拦截", cls: "block" },
  };
  const SEVERITY = { block: "拦截", revise: "需修改", warn: "提示" };
  const WRITER = { template: "话术模板", local: "本地模型", openai: "模型服务", auto: "自动" };
  const DOC_TYPE = {
    product: "产品说明", script: "经审批话术", education: "投资者教育",
    playbook: "客群经营手册", regulation: "法规条文", other: "其他",
  };
  const CHANNEL = { group: "客户群群发", moments: "客户朋友圈", one_to_one: "一对一群发" };
  const FORMAT = { text: "文字", image: "图片/海报", video: "短视频", link: "H5 链接", miniprogram: "小程序" };
  const WEEKDAY = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
  const MAX_TURNS = 6; // three exchanges; the API accepts up to 20 turns

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY) || "",
    user: null,
    options: null,
    externalUserId: null, // from WeCom's getCurExternalContact, only inside the sidebar
    draft: null, // the final Draft of the current conversation
    turns: [], // earlier turns of this conversation ({role: customer|rm, text}), sent as history
    editing: false,
    actionDone: false,
    plan: null,
    planRequest: null,
  };

  // --- DOM helper: strings become text nodes, never markup ----------------------------------
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }
  const clear = (node) => { node.replaceChildren(); return node; };
  const show = (node, yes = true) => { node.hidden = !yes; };
  function setStatus(node, text, kind = "") {
    node.textContent = text || "";
    node.className = "status" + (kind ? " " + kind : "");
  }

  // --- API client ---------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, body, retryAfter) {
      const e = (body && body.error) || {};
      super(e.message || `请求失败（HTTP ${status}）`);
      this.status = status;
      this.code = e.code || "error";
      this.detail = e.detail;
      this.retryAfter = retryAfter;
    }
  }

  async function request(method, path, { json, query, accept } = {}) {
    const url = new URL(path, location.origin);
    for (const [k, v] of Object.entries(query || {})) {
      if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
    }
    const headers = { Accept: accept || "application/json" };
    if (state.token) headers.Authorization = "Bearer " + state.token;
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    }
    let res;
    try {
      res = await fetch(url, { method, headers, body });
    } catch (err) {
      throw new ApiError(0, { error: { message: "无法连接服务，请检查网络后重试。" } });
    }
    if (!res.ok) await failed(res);
    return res;
  }

  async function failed(res) {
    let body = null;
    try { body = await res.json(); } catch (_) { /* not JSON */ }
    const err = new ApiError(res.status, body, res.headers.get("Retry-After"));
    if (res.status === 401 && state.user) signOut(err.message);
    throw err;
  }

  const getJSON = async (path, query) => (await request("GET", path, { query })).json();
  const postJSON = async (path, json, query) => (await request("POST", path, { json, query })).json();

  function explain(err) {
    let text = err.message || "出错了，请重试。";
    if (err.retryAfter) text += `（约 ${err.retryAfter} 秒后可重试）`;
    return text;
  }

  // --- server-sent events over fetch (EventSource cannot POST or send a bearer token) ---------
  async function streamEvents(path, json, onEvent) {
    const res = await request("POST", path, { json, accept: "text/event-stream" });
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let event = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (!line || line.startsWith(":")) continue; // keep-alive comment
          const i = line.indexOf(":");
          const field = i < 0 ? line : line.slice(0, i);
          const val = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
          if (field === "event") event = val;
          else if (field === "data") data.push(val);
        }
        if (!data.length) continue;
        let payload;
        try { payload = JSON.parse(data.join("\n")); } catch (_) { payload = data.join("\n"); }
        onEvent(event, payload);
      }
    }
  }

  // --- sign-in ------------------------------------------------------------------------------
  const inWeCom = /wxwork/i.test(navigator.userAgent);

  async function start() {
    wireTabs();
    wireLogin();
    wireDraft();
    wireSearch();
    wireSchedule();
    try {
      state.options = await getJSON("/v1/auth/options");
    } catch (_) {
      state.options = { dev_login: false, wecom: false };
    }
    const code = new URLSearchParams(location.search).get("code");
    if (code && !state.token) {
      // WeCom's OAuth redirect appended ?code=…: trade it for a session, then drop it from the URL.
      history.replaceState(null, "", location.pathname);
      try {
        const s = await postJSON("/v1/wecom/login", { code });
        return signedIn(s.token, s.user);
      } catch (err) {
        return showLogin(explain(err));
      }
    }
    if (state.token) {
      try {
        return signedIn(state.token, await getJSON("/v1/me"));
      } catch (err) {
        return showLogin(err.status === 401 ? "登录已过期，请重新登录。" : explain(err));
      }
    }
    showLogin("");
  }

  function showLogin(message) {
    state.user = null;
    show($("app"), false);
    show($("logout"), false);
    $("who").textContent = "";
    show($("login"));
    show($("dev-box"), Boolean(state.options && state.options.dev_login));
    $("login-error").textContent = message || "";
  }

  function wireLogin() {
    $("token-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const token = $("token-input").value.trim();
      state.token = token;
      try {
        signedIn(token, await getJSON("/v1/me"));
      } catch (err) {
        state.token = "";
        $("login-error").textContent = err.status === 401 ? "令牌无效或已过期。" : explain(err);
      }
    });
    $("dev-login").addEventListener("click", async () => {
      try {
        const s = await postJSON("/v1/auth/dev-login", {});
        signedIn(s.token, s.user);
      } catch (err) {
        $("login-error").textContent = explain(err);
      }
    });
    $("logout").addEventListener("click", async () => {
      try { await postJSON("/v1/auth/logout", {}); } catch (_) { /* signing out anyway */ }
      signOut("");
    });
  }

  function signedIn(token, user) {
    state.token = token;
    state.user = user;
    sessionStorage.setItem(TOKEN_KEY, token);
    $("token-input").value = "";
    show($("login"), false);
    show($("app"));
    show($("logout"));
    $("who").textContent = `${user.name}（${user.role_name}）`;
    loadSegments();
    loadProducts();
    initSchedule();
    loadWeComSdk().then((ok) => { if (ok && state.options && state.options.wecom) registerWeCom(); });
    document.dispatchEvent(new CustomEvent("copilot:signed-in", { detail: user }));
  }

  function signOut(message) {
    state.token = "";
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(message);
    document.dispatchEvent(new CustomEvent("copilot:signed-out"));
  }

  // --- WeCom JS-SDK ------------------------------------------------------------------------
  // The bank serves WeCom's JS-SDK build from this same origin (copilot/web/vendor/, see
  // docs/api.md); it is loaded only inside WeCom, so a browser never asks for it.
  function loadWeComSdk() {
    return new Promise((resolve) => {
      if (window.ww) { resolve(true); return; }
      if (!inWeCom) { resolve(false); return; }
      const s = el("script", { src: "/vendor/wecom-jssdk.js" });
      s.addEventListener("load", () => resolve(Boolean(window.ww)));
      s.addEventListener("error", () => resolve(false));
      document.head.append(s);
    });
  }

  function registerWeCom() {
    const sign = async (url) => getJSON("/v1/wecom/jsconfig", { url });
    try {
      window.ww.register({
        corpId: state.options.corp_id,
        agentId: state.options.agent_id,
        jsApiList: ["sendChatMessage", "getCurExternalContact", "getContext"],
        getConfigSignature: async (url) => {
          const c = await sign(url);
          return { timestamp: c.timestamp, nonceStr: c.nonceStr, signature: c.signature };
        },
        getAgentConfigSignature: async (url) => {
          const c = await sign(url);
          return { timestamp: c.timestamp, nonceStr: c.nonceStr, signature: c.agentSignature };
        },
      });
      if (window.ww.getCurExternalContact) {
        window.ww.getCurExternalContact().then((r) => { state.externalUserId = r.userId || null; })
          .catch(() => { /* not in a one-to-one chat */ });
      }
    } catch (_) { /* the panel works without the SDK: copy instead of send */ }
  }

  async function putIntoChat(text) {
    // sendChatMessage only fills the RM's own input box: the RM still presses send in WeCom.
    if (window.ww && window.ww.sendChatMessage) {
      await window.ww.sendChatMessage({ msgtype: "text", text: { content: text } });
      return "已放入企业微信聊天输入框，请确认后发送。";
    }
    if (window.wx && window.wx.invoke) {
      await new Promise((resolve, reject) => window.wx.invoke(
        "sendChatMessage", { msgtype: "text", text: { content: text } },
        (r) => (r && /:ok$/.test(r.err_msg || "") ? resolve() : reject(new Error(r && r.err_msg)))));
      return "已放入企业微信聊天输入框，请确认后发送。";
    }
    await copyText(text);
    return "已复制，请粘贴到聊天窗口发送。";
  }

  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return;
    }
    const area = el("textarea", { class: "offscreen", readonly: true });
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }

  // --- tabs ---------------------------------------------------------------------------------
  function wireTabs() {
    for (const btn of document.querySelectorAll("[role=tab]")) {
      btn.addEventListener("click", () => {
        for (const b of document.querySelectorAll("[role=tab]")) {
          const on = b === btn;
          b.setAttribute("aria-selected", String(on));
          show($("tab-" + b.dataset.tab), on);
        }
      });
    }
  }

  // --- segments: the deployment's own list (prompts/segments.yaml), replacing the page's default -
  async function loadSegments() {
    let list;
    try {
      list = (await getJSON("/v1/segments")).segments;
    } catch (_) { return; /* keep the page's built-in options */ }
    for (const id of ["segment", "search-segment", "sched-segment"]) {
      const select = $(id);
      const chosen = select.value;
      for (const o of [...select.options]) if (o.value) o.remove();  // keeps "全部客群"
      for (const s of list) select.append(el("option", { value: s.id }, s.name));
      select.value = [...select.options].some((o) => o.value === chosen) ? chosen : select.options[0].value;
    }
  }

  // --- drafting -----------------------------------------------------------------------------
  async function loadProducts() {
    const select = $("product");
    if (select.options.length > 1) return;
    try {
      const page = await getJSON("/v1/knowledge", { type: "product", limit: 200, include_expired: false });
      for (const d of page.items) {
        if (!d.product_code) continue;
        const risk = d.risk_level ? `（${d.risk_level}）` : "";
        select.append(el("option", { value: d.product_code }, `${d.title}${risk}`));
      }
    } catch (_) { /* optional */ }
  }

  function draftBody() {
    const product = $("product").value;
    return {
      message: $("message").value,
      customer: {
        segment: $("segment").value,
        risk_level: $("risk").value || null,
        age_band: $("age").value || null,
      },
      product_codes: product ? [product] : [],
      external_userid: state.externalUserId,
      // The last turns, so a follow-up such as "那它能随时取吗？" is read against the previous answer.
      history: state.turns.slice(-MAX_TURNS),
    };
  }

  function rememberTurn(message, draft) {
    state.turns.push({ role: "customer", text: message }, { role: "rm", text: draft.draft });
    state.turns = state.turns.slice(-MAX_TURNS);
    updateTurns();
  }

  function updateTurns() {
    const n = state.turns.length / 2;
    $("turns").textContent = n ? `接续上文（已有 ${n} 轮对话）` : "";
    show($("new-chat-btn"), n > 0);
  }

  function resetResult() {
    state.draft = null;
    state.editing = false;
    state.actionDone = false;
    show($("badge"), false);
    $("writer").textContent = "";
    clear($("draft-text")).classList.add("streaming");
    show($("draft-text"));
    show($("draft-edit"), false);
    show($("fallback"), false);
    show(clear($("citations")), false);
    show(clear($("findings")), false);
    show($("actions"), false);
    setStatus($("action-status"), "");
  }

  function wireDraft() {
    $("draft-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = draftBody();
      if (!body.message.trim()) {
        setStatus($("draft-status"), "请先粘贴客户消息。", "error");
        return;
      }
      const btn = $("draft-btn");
      btn.disabled = true;
      resetResult();
      $("customer-text").textContent = body.message;
      show($("conversation"));
      setStatus($("draft-status"), "正在检索资料并起草…", "busy");
      let gotFinal = false;
      try {
        await streamEvents("/v1/drafts/stream", body, (event, data) => {
          if (event === "queued") {
            setStatus($("draft-status"), `使用人数较多，排队中（第 ${data.position} 位）…`, "busy");
          } else if (event === "token") {
            setStatus($("draft-status"), "正在生成…（生成中的文字尚未经过合规检查）", "busy");
            $("draft-text").append(document.createTextNode(data.text));
          } else if (event === "fallback" || event === "retry") {
            // The text starts over: another writer took over, or a rewrite after compliance findings.
            clear($("draft-text"));
            setStatus($("draft-status"), (data && data.reason) || "正在重新起草…", "busy");
          } else if (event === "error") {
            setStatus($("draft-status"), (data.error && data.error.message) || "起草出错。", "error");
          } else if (event === "final") {
            gotFinal = true;
            renderDraft(data);
            rememberTurn(body.message, data);
          }
        });
        if (gotFinal) setStatus($("draft-status"), "");
        else if (!$("draft-status").classList.contains("error")) {
          setStatus($("draft-status"), "连接中断，未收到完整回复，请重试。", "error");
        }
      } catch (err) {
        setStatus($("draft-status"), explain(err), "error");
      } finally {
        btn.disabled = false;
        $("draft-text").classList.remove("streaming");
      }
    });

    $("edit-btn").addEventListener("click", () => {
      if (!state.draft) return;
      state.editing = !state.editing;
      const area = $("draft-edit");
      if (state.editing) {
        area.value = area.value || state.draft.draft;
        $("edit-btn").textContent = "取消编辑";
        $("send-btn").disabled = state.actionDone;
        $("send-btn").textContent = "检查并发送";
        $("copy-btn").disabled = true;
      } else {
        area.value = "";
        $("edit-btn").textContent = "编辑";
        updateSendButton();
      }
      show(area, state.editing);
      show($("draft-text"), !state.editing);
      if (state.editing) area.focus();
    });

    $("copy-btn").addEventListener("click", async () => {
      try {
        await copyText(currentText());
        setStatus($("action-status"), "已复制（发送前请点“发送”记录，以便合规留痕）。");
      } catch (_) {
        setStatus($("action-status"), "复制失败，请手动选择文字复制。", "error");
      }
    });

    $("new-chat-btn").addEventListener("click", () => {
      state.turns = [];
      updateTurns();
      $("message").value = "";
      $("message").focus();
    });
    let segment = $("segment").value;
    $("segment").addEventListener("change", () => {
      if ($("segment").value === segment) return;
      segment = $("segment").value;
      state.turns = []; // another customer group: the earlier turns are not this conversation
      updateTurns();
    });

    $("send-btn").addEventListener("click", () => act(state.editing ? "edited" : "sent"));
    $("discard-btn").addEventListener("click", () => act("discarded"));
  }

  function currentText() {
    return state.editing ? $("draft-edit").value : (state.draft ? state.draft.draft : "");
  }

  // Only a checked, sendable draft can be copied or sent as it is; an edited text goes through
  // "检查并发送", which the server checks again before it is recorded and put into the chat.
  function updateSendButton() {
    const d = state.draft;
    const send = $("send-btn");
    const ok = Boolean(d && d.sendable) && !state.actionDone;
    send.textContent = "发送";
    send.disabled = !ok;
    send.title = d && !d.sendable ? "未通过合规检查的草稿不能发送；可编辑后重新检查。" : "";
    $("copy-btn").disabled = !ok;
  }

  function renderDraft(d) {
    state.draft = d;
    const v = VERDICT[d.verdict] || VERDICT.block;
    const badge = $("badge");
    badge.textContent = v.label;
    badge.className = "badge " + v.cls;
    show(badge);
    const writer = WRITER[d.writer] || d.writer;
    $("writer").textContent = d.model ? `${writer} · ${d.model}` : writer;
    renderHighlighted($("draft-text"), d.draft, d.findings || []);
    if (d.fallback_reason) {
      $("fallback").textContent = d.fallback_reason;
      show($("fallback"));
    }
    renderCitations(d.citations || []);
    renderFindings($("findings"), d.findings || []);
    show($("actions"));
    updateSendButton();
    if (!d.sendable) {
      setStatus($("action-status"), "此草稿未通过合规检查，不能直接发送。可点“编辑”修改后重新检查。", "error");
    }
  }

  // Wrap each finding's span in <mark>, building nodes (no markup strings).
  function renderHighlighted(node, text, findings) {
    clear(node);
    const spans = [];
    for (const f of findings) {
      let start = f.start;
      let end = f.end;
      if (!(text.slice(start, end) === f.text && end > start)) {
        start = f.text ? text.indexOf(f.text) : -1;
        end = start + (f.text || "").length;
      }
      if (start >= 0 && end > start) spans.push({ start, end, f });
    }
    spans.sort((a, b) => a.start - b.start);
    let at = 0;
    for (const s of spans) {
      if (s.start < at) continue; // overlapping spans: keep the first
      node.append(document.createTextNode(text.slice(at, s.start)));
      node.append(el("mark", { class: "sev-" + s.f.severity, title: s.f.message }, text.slice(s.start, s.end)));
      at = s.end;
    }
    node.append(document.createTextNode(text.slice(at)));
  }

  function renderCitations(citations) {
    const box = clear($("citations"));
    if (!citations.length) return;
    box.append(el("span", { class: "chips-label" }, "出处："));
    for (const c of citations) {
      box.append(el("button", {
        type: "button", class: "chip", title: c.source_path,
        onclick: () => openPassage(c),
      }, `[${c.n}] ${c.title}`));
    }
    show(box);
  }

  function renderFindings(list, findings) {
    clear(list);
    for (const f of findings) {
      list.append(el("li", { class: "finding sev-" + f.severity },
        el("span", { class: "sev-tag" }, SEVERITY[f.severity] || f.severity),
        el("span", { class: "finding-msg" }, f.message),
        f.text ? el("div", { class: "small" }, "原文：", el("q", {}, f.text)) : null,
        f.citation ? el("div", { class: "small muted" }, "依据：", f.citation) : null,
        f.suggestion ? el("div", { class: "small suggestion" }, "建议：", f.suggestion) : null));
    }
    show(list, findings.length > 0);
  }

  async function openPassage(c) {
    const dlg = $("passage");
    $("passage-title").textContent = c.title + (c.heading ? ` · ${c.heading}` : "");
    const meta = [c.source_path, c.version && `版本 ${c.version}`, c.effective_date && `生效 ${c.effective_date}`];
    $("passage-meta").textContent = meta.filter(Boolean).join(" · ");
    $("passage-text").textContent = c.text || "加载中…";
    if (typeof dlg.showModal === "function") dlg.showModal(); else dlg.setAttribute("open", "");
    if (!c.text && c.chunk_id) {
      try {
        const hit = await getJSON("/v1/passages/" + encodeURIComponent(c.chunk_id));
        $("passage-text").textContent = hit.text;
      } catch (err) {
        $("passage-text").textContent = explain(err);
      }
    }
  }

  async function act(action) {
    const d = state.draft;
    if (!d || !d.audit_id || state.actionDone) return;
    const text = currentText();
    const status = $("action-status");
    setStatus(status, action === "discarded" ? "正在记录…" : "正在进行发送前合规检查…", "busy");
    try {
      const body = { action };
      if (action !== "discarded") body.final_text = text;
      await postJSON(`/v1/audit/${encodeURIComponent(d.audit_id)}/action`, body);
      if (action === "discarded") {
        setStatus(status, "已放弃此草稿（已记录）。");
      } else {
        setStatus(status, await putIntoChat(text), "ok");
      }
      state.actionDone = true;
      for (const b of $("actions").querySelectorAll("button")) b.disabled = true;
    } catch (err) {
      setStatus(status, explain(err), "error");
      const verdict = err.detail && err.detail.verdict;
      if (verdict && verdict.findings) offerRevision(verdict);
    }
  }

  // An edited text that came back "revise" or "block": show why, and offer the fixed text.
  function offerRevision(verdict) {
    renderFindings($("findings"), verdict.findings);
    const v = VERDICT[verdict.verdict] || VERDICT.block;
    $("badge").textContent = v.label;
    $("badge").className = "badge " + v.cls;
    if (verdict.revised) {
      const use = el("button", { type: "button", class: "link" }, "采用修改后的文本");
      use.addEventListener("click", () => {
        if (!state.editing) $("edit-btn").click();
        $("draft-edit").value = verdict.revised;
        setStatus($("action-status"), "已替换为修改后的文本，请确认后再发送。");
      });
      $("action-status").append(" ", use);
    }
  }

  // --- knowledge search ---------------------------------------------------------------------
  function wireSearch() {
    $("search-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const q = $("search-q").value.trim();
      const list = clear($("search-results"));
      if (!q) return;
      setStatus($("search-status"), "检索中…", "busy");
      try {
        const res = await getJSON("/v1/search", {
          q, segment: $("search-segment").value, type: $("search-type").value, k: 8,
        });
        setStatus($("search-status"), res.hits.length ? `找到 ${res.hits.length} 条与“${q}”相关的内容` : `没有找到与“${q}”相关的内容`);
        for (const h of res.hits) {
          const meta = [DOC_TYPE[h.doc_type] || h.doc_type, h.product_code, h.risk_level,
            h.version && `版本 ${h.version}`, h.effective_date && `生效 ${h.effective_date}`].filter(Boolean);
          list.append(el("li", { class: "card hit" },
            el("div", { class: "hit-title" }, h.title, h.heading ? el("span", { class: "muted" }, ` · ${h.heading}`) : null),
            el("p", { class: "hit-text" }, h.text),
            el("div", { class: "small muted" }, meta.join(" · ")),
            el("div", { class: "small muted path" }, h.source_path)));
        }
      } catch (err) {
        setStatus($("search-status"), explain(err), "error");
      }
    });
  }

  // --- posting schedule ---------------------------------------------------------------------
  function isoDate(d) {
    const p = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  }

  function initSchedule() {
    if ($("sched-start").value) return;
    const d = new Date();
    d.setDate(d.getDate() + ((8 - d.getDay()) % 7 || 7)); // next Monday
    $("sched-start").value = isoDate(d);
  }

  function scheduleBody() {
    const cap = parseInt($("sched-cap").value, 10);
    return {
      segment: $("sched-segment").value,
      start: $("sched-start").value,
      weeks: parseInt($("sched-weeks").value, 10),
      cap: Number.isFinite(cap) ? { per_month: cap } : null,
    };
  }

  function wireSchedule() {
    $("schedule-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = scheduleBody();
      show($("sched-result"), false);
      setStatus($("sched-status"), "正在生成排期并逐条合规检查…", "busy");
      try {
        state.plan = await postJSON("/v1/schedules", body);
        state.planRequest = body;
        renderPlan(state.plan);
        setStatus($("sched-status"), "");
      } catch (err) {
        setStatus($("sched-status"), explain(err), "error");
      }
    });
    $("dl-csv").addEventListener("click", () => download("csv"));
    $("dl-ics").addEventListener("click", () => download("ics"));
  }

  async function download(format) {
    if (!state.planRequest) return;
    try {
      const res = await request("POST", "/v1/schedules", { json: state.planRequest, query: { format }, accept: "*/*" });
      const blob = await res.blob();
      const name = `schedule-${state.planRequest.segment}-${state.planRequest.start}.${format}`;
      const a = el("a", { href: URL.createObjectURL(blob), download: name });
      document.body.append(a);
      a.click();
      setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    } catch (err) {
      setStatus($("sched-status"), explain(err), "error");
    }
  }

  function renderPlan(plan) {
    const slots = plan.slots || [];
    const blocked = slots.filter((s) => s.verdict === "block").length;
    $("sched-summary").textContent =
      `${plan.start} 至 ${plan.end}，共 ${slots.length} 条` + (blocked ? `，${blocked} 条被拦截` : "") +
      (plan.cap_text ? `。${plan.cap_text}` : "");
    const notes = clear($("sched-notes"));
    for (const n of plan.notes || []) notes.append(el("li", {}, n));

    // One cell per day, Monday first; on a narrow screen the grid becomes a day list (CSS).
    const cal = clear($("calendar"));
    for (const w of WEEKDAY) cal.append(el("div", { class: "cal-head" }, w));
    const byDay = new Map();
    for (const s of slots) {
      const day = s.at.slice(0, 10);
      if (!byDay.has(day)) byDay.set(day, []);
      byDay.get(day).push(s);
    }
    const start = new Date(plan.start + "T00:00:00");
    const end = new Date(plan.end + "T00:00:00");
    const first = new Date(start);
    first.setDate(first.getDate() - ((first.getDay() + 6) % 7)); // back to Monday
    for (let d = new Date(first); d <= end; d.setDate(d.getDate() + 1)) {
      const key = isoDate(d);
      const inRange = d >= start;
      const daySlots = byDay.get(key) || [];
      const cell = el("div", { class: "cal-day" + (inRange ? "" : " out") + (daySlots.length ? "" : " empty") },
        el("div", { class: "cal-date" }, `${d.getMonth() + 1}/${d.getDate()}`,
          el("span", { class: "cal-wd" }, " " + WEEKDAY[(d.getDay() + 6) % 7])));
      for (const s of daySlots) {
        const v = VERDICT[s.verdict] || VERDICT.block;
        cell.append(el("button", {
          type: "button", class: "slot " + v.cls, title: `${v.label}：${s.theme}`,
          onclick: () => showSlot(s),
        }, el("span", { class: "slot-time" }, s.at.slice(11, 16)), " ", s.theme));
      }
      cal.append(cell);
    }
    const left = plan.left_out || [];
    const leftList = clear($("left-out-list"));
    for (const l of left) leftList.append(el("li", {}, `${l.at.slice(0, 16).replace("T", " ")} ${l.theme}：${l.reason}`));
    show($("left-out"), left.length > 0);
    show($("slot-detail"), false);
    show($("sched-result"));
  }

  function showSlot(s) {
    const box = clear($("slot-detail"));
    const v = VERDICT[s.verdict] || VERDICT.block;
    box.append(
      el("div", { class: "result-head" }, el("span", { class: "badge " + v.cls }, v.label),
        el("strong", {}, s.theme)),
      el("div", { class: "small muted" },
        [s.at.slice(0, 16).replace("T", " "), CHANNEL[s.channel] || s.channel, FORMAT[s.format] || s.format,
          (s.groups || []).join("、")].filter(Boolean).join(" · ")),
      el("p", { class: "bubble-text" }, s.copy || ""));
    const findings = el("ul", { class: "findings" });
    renderFindings(findings, s.findings || []);
    box.append(findings);
    if ((s.citations || []).length) {
      const chips = el("div", { class: "chips" }, el("span", { class: "chips-label" }, "出处："));
      for (const c of s.citations) {
        chips.append(el("button", { type: "button", class: "chip", onclick: () => openPassage(c) }, `[${c.n}] ${c.title}`));
      }
      box.append(chips);
    }
    box.append(el("div", { class: "actions" }, el("button", {
      type: "button", disabled: s.verdict === "block",
      onclick: async () => { await copyText(s.copy || ""); },
    }, "复制文案")));
    show(box);
    box.scrollIntoView({ block: "nearest" });
  }

  // What the other panel pages (review.js) share with this one: one DOM helper, one API client.
  window.copilotPanel = {
    $, el, clear, show, setStatus, getJSON, postJSON, explain, renderHighlighted, VERDICT, SEVERITY, CHANNEL,
  };

  document.addEventListener("DOMContentLoaded", start);
})();

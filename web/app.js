// microbook UI: one page, plain JS, talks to the JSON API of docs/API.md
// on the same origin. No page reloads; every API error is shown in #error.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);

  const state = {
    me: null,            // {userId, userName} or null
    books: new Map(),    // bookId -> book
    bookOrder: [],       // bookIds in the order the API listed them
    orders: [],          // newest first
    next: null,          // orderId to pass as `before` for older orders
    confirming: new Set(), // orderIds paid, waiting for the listener to mark them paid
    busy: new Set(),       // orderIds / 'book:<id>' with a request in flight
    orderKeys: new Map(),  // bookId -> Idempotency-Key of an order attempt without a definite answer
  };

  // ---------- API ----------

  class ApiError extends Error {
    constructor(code, detail, status, ref, data) {
      super(detail);
      this.code = code;
      this.detail = detail;
      this.status = status;
      this.ref = ref;
      this.data = data;
    }
  }

  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') {
      return window.crypto.randomUUID();
    }
    const b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  // method, path, fields (object, sent as x-www-form-urlencoded on POST), extra headers.
  async function api(method, path, fields, headers) {
    const opts = {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: Object.assign({ Accept: 'application/json' }, headers || {}),
    };
    if (method !== 'GET') {
      opts.headers['Content-Type'] = 'application/x-www-form-urlencoded';
      opts.body = new URLSearchParams(fields || {}).toString();
    }
    let res;
    try {
      res = await fetch(path, opts);
    } catch (e) {
      throw new ApiError('NETWORK', 'Could not reach the server (' + (e && e.message ? e.message : e) + ').', 0);
    }
    let body = null;
    try {
      body = await res.json();
    } catch (e) {
      body = null;
    }
    if (!body || typeof body !== 'object') {
      throw new ApiError('HTTP_' + res.status,
        'The server answered ' + res.status + (res.statusText ? ' ' + res.statusText : '') + ' without a JSON body.',
        res.status, res.headers.get('X-Request-Id'));
    }
    if (!res.ok || body.success !== true) {
      const err = body.error && typeof body.error === 'object' ? body.error : {};
      throw new ApiError(
        err.code || 'HTTP_' + res.status,
        err.detail || 'The request failed with status ' + res.status + '.',
        res.status, body.ref, body.data);
    }
    return { status: res.status, data: body.data || {}, ref: body.ref };
  }

  // A definite answer: the attempt is over, its outcome known. Not final: no answer
  // (network), a 5xx, or a 408/429 (the request was not processed; try it again).
  function isFinal(e) {
    return e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429;
  }

  // ---------- messages ----------

  function showError(e) {
    const msg = el('div', { class: 'msg msg-error' },
      el('strong', { class: 'code', text: (e && e.code) || 'ERROR' }), ' ',
      el('span', { class: 'detail', text: (e && (e.detail || e.message)) || 'Something went wrong.' }));
    if (e && e.ref) msg.append(' ', el('small', { class: 'ref', text: '(ref ' + e.ref + ')' }));
    $('error').replaceChildren(msg);
  }

  function clearError() {
    $('error').replaceChildren();
  }

  function notify(text) {
    if (text) $('notice').replaceChildren(el('div', { class: 'msg msg-ok', text }));
    else $('notice').replaceChildren();
  }

  function startAction() {
    clearError();
    notify('');
  }

  // A 401 on an authenticated call means the session is gone: show why, then log out locally.
  function handleError(e) {
    showError(e);
    if (e && e.status === 401 && e.code === 'UNAUTHENTICATED' && state.me) {
      setMe(null);
    }
  }

  // ---------- formatting ----------

  function money(cents) {
    if (typeof cents !== 'number' || !Number.isFinite(cents)) return '—';
    const neg = cents < 0;
    const c = Math.abs(Math.trunc(cents));
    return (neg ? '-' : '') + Math.floor(c / 100) + '.' + String(c % 100).padStart(2, '0');
  }

  function when(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  }

  function bookTitle(bookId) {
    const b = state.books.get(bookId);
    return b ? b.title : 'Book ' + bookId;
  }

  function el(tag, attrs, ...children) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') n.className = v;
      else if (k === 'text') n.textContent = v;
      else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
      else n.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) if (c !== null && c !== undefined) n.append(c);
    return n;
  }

  // ---------- rendering ----------

  function setMe(user) {
    if (!user || !state.me || state.me.userId !== user.userId) state.orderKeys.clear(); // keys are per user
    state.me = user;
    if (!user) {
      state.orders = [];
      state.next = null;
      state.confirming.clear();
    }
    renderSession();
    renderBooks();
    renderOrders();
  }

  function renderSession() {
    document.body.classList.toggle('signed-in', !!state.me);
    const status = $('session-status');
    status.textContent = '';
    if (state.me) {
      status.append('Signed in as ', el('strong', { id: 'whoami', text: state.me.userName }));
      $('logout').hidden = false;
      $('auth').hidden = true;
      $('orders-section').hidden = false;
    } else {
      status.textContent = 'Not signed in';
      $('logout').hidden = true;
      $('auth').hidden = false;
      $('orders-section').hidden = true;
    }
  }

  function renderBooks() {
    const list = $('books');
    list.textContent = '';
    $('books-empty').hidden = state.bookOrder.length > 0;
    $('books-hint').hidden = !!state.me || state.bookOrder.length === 0;
    for (const id of state.bookOrder) {
      const b = state.books.get(id);
      const stock = typeof b.stock === 'number' ? b.stock : 0;
      const inFlight = state.busy.has('book:' + id);
      let why = null;
      if (!state.me) why = 'Log in to order';
      else if (stock <= 0) why = 'Out of stock';
      const btn = el('button', {
        type: 'button',
        class: 'btn btn-primary',
        'aria-label': 'Order ' + b.title,
        title: why || 'Order one copy of ' + b.title,
        disabled: !!why || inFlight,
        onclick: () => orderBook(id),
      }, inFlight ? 'Ordering…' : 'Order');
      const stockText = stock > 0 ? stock + ' in stock' : 'Out of stock';
      list.append(el('li', { class: 'book', 'data-book-id': id, 'data-stock': stock },
        el('div', { class: 'book-main' },
          el('span', { class: 'book-title', text: b.title }),
          el('span', { class: 'book-meta' },
            el('span', { class: 'price', text: money(b.unitPrice) }),
            el('span', { class: 'stock' + (stock > 0 ? '' : ' stock-out'), text: stockText }))),
        btn));
    }
  }

  function renderOrders() {
    const body = $('orders');
    body.textContent = '';
    const has = state.orders.length > 0;
    $('orders-table').hidden = !has;
    $('orders-empty').hidden = has || !state.me;
    $('more-orders').hidden = !state.me || state.next === null || state.next === undefined;
    for (const o of state.orders) {
      const id = o.orderId;
      const confirming = o.state === 'unpaid' && state.confirming.has(id);
      const inFlight = state.busy.has(id);
      const actions = el('td', { class: 'actions' });
      if (o.state === 'unpaid' && !confirming) {
        actions.append(
          el('button', { type: 'button', class: 'btn btn-primary', 'aria-label': 'Pay order ' + id,
            disabled: inFlight, onclick: () => payOrder(id) }, 'Pay'),
          el('button', { type: 'button', class: 'btn', 'aria-label': 'Cancel order ' + id,
            disabled: inFlight, onclick: () => cancelOrder(id) }, 'Cancel'));
      }
      const stateLabel = confirming ? 'confirming…' : o.state;
      const stateTitle = o.state === 'paid' && o.paidAt ? 'Paid ' + when(o.paidAt) : null;
      body.append(el('tr', { 'data-order-id': id, 'data-state': o.state },
        el('td', { class: 'order-id', text: '#' + id }),
        el('td', {},
          el('span', { class: 'book-title', text: bookTitle(o.bookId) }),
          o.createdAt ? el('small', { class: 'created', text: when(o.createdAt) }) : null),
        el('td', { class: 'num', text: money(o.unitPrice) }),
        el('td', {}, el('span', { class: 'state state-' + o.state, title: stateTitle, text: stateLabel })),
        actions));
    }
  }

  // ---------- loading ----------

  async function loadMe() {
    try {
      const r = await api('GET', '/user/me');
      state.me = r.data;
    } catch (e) {
      // No session is the normal logged-out state on first load, not an error.
      state.me = null;
      if (!(e.status === 401 && e.code === 'UNAUTHENTICATED')) showError(e);
    }
  }

  async function loadBooks() {
    $('books-section').setAttribute('aria-busy', 'true');
    try {
      const r = await api('GET', '/orders/books');
      const books = Array.isArray(r.data.books) ? r.data.books : [];
      state.books = new Map(books.map((b) => [b.bookId, b]));
      state.bookOrder = books.map((b) => b.bookId);
      renderBooks();
      renderOrders(); // titles may have changed
    } catch (e) {
      handleError(e);
    } finally {
      $('books-section').removeAttribute('aria-busy');
    }
  }

  // Loads the newest page of orders (or, with more=true, the next older page).
  async function loadOrders(more) {
    if (!state.me) return;
    let path = '/orders?limit=50';
    if (more && state.next !== null && state.next !== undefined) path += '&before=' + encodeURIComponent(state.next);
    $('orders-section').setAttribute('aria-busy', 'true');
    try {
      const r = await api('GET', path);
      const orders = Array.isArray(r.data.orders) ? r.data.orders : [];
      state.orders = more ? state.orders.concat(orders) : orders;
      state.next = r.data.next === undefined ? null : r.data.next;
      for (const o of state.orders) if (o.state !== 'unpaid') state.confirming.delete(o.orderId);
      renderOrders();
    } catch (e) {
      handleError(e);
    } finally {
      $('orders-section').removeAttribute('aria-busy');
    }
  }

  // ---------- actions ----------

  function credentials() {
    return { userName: $('userName').value.trim(), pwd: $('pwd').value };
  }

  async function withAuthForm(fn) {
    const buttons = [$('login'), $('register')];
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await fn();
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  // Logs in with creds; greeting(userName) is what the page then says.
  async function signIn(creds, greeting) {
    try {
      const r = await api('POST', '/user/login', creds);
      $('pwd').value = '';
      setMe(r.data);
      notify(greeting(r.data.userName));
      await loadOrders();
    } catch (e) {
      handleError(e);
    }
  }

  async function login(ev) {
    if (ev) ev.preventDefault();
    startAction();
    await withAuthForm(() => signIn(credentials(), (name) => 'Welcome, ' + name + '.'));
  }

  async function register() {
    startAction();
    await withAuthForm(async () => {
      const creds = credentials();
      try {
        await api('POST', '/user/register', creds);
      } catch (e) {
        handleError(e);
        return;
      }
      await signIn(creds, (name) => 'Registered and logged in as ' + name + '.');
    });
  }

  async function logout() {
    startAction();
    $('logout').disabled = true;
    try {
      await api('POST', '/user/logout');
      setMe(null);
      notify('You are logged out.');
    } catch (e) {
      handleError(e);
    } finally {
      $('logout').disabled = false;
    }
  }

  async function orderBook(bookId) {
    startAction();
    const key = 'book:' + bookId;
    if (state.busy.has(key)) return;
    state.busy.add(key);
    renderBooks();
    try {
      // An attempt keeps its key until it has a definite answer, so clicking again after a
      // network error or a 503 repeats that attempt (the server answers with the order it
      // made, if it made one) instead of ordering a second copy.
      if (!state.orderKeys.has(bookId)) state.orderKeys.set(bookId, newKey());
      const r = await api('POST', '/orders/new', { bookId: String(bookId) },
        { 'Idempotency-Key': state.orderKeys.get(bookId) });
      state.orderKeys.delete(bookId);
      notify('Order #' + r.data.orderId + ' placed for ' + bookTitle(bookId) + '. Pay it under My orders.');
    } catch (e) {
      if (isFinal(e)) state.orderKeys.delete(bookId);
      handleError(e);
    } finally {
      state.busy.delete(key);
    }
    await Promise.all([loadBooks(), loadOrders()]);
  }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  function findOrder(id) {
    return state.orders.find((o) => o.orderId === id);
  }

  // After a successful pay the listener marks the order paid asynchronously (API.md: within 1 s).
  async function waitForPaid(id) {
    const started = Date.now();
    while (state.me && Date.now() - started < 15000) {
      await sleep(Date.now() - started < 3000 ? 300 : 1000);
      if (!state.me) return;
      await loadOrders();
      const o = findOrder(id);
      if (!o) break; // no longer on the first page; stop polling
      if (o.state !== 'unpaid') {
        state.confirming.delete(id);
        renderOrders();
        if (o.state === 'paid') notify('Order #' + id + ' is paid. Thank you!');
        return;
      }
    }
    state.confirming.delete(id);
    renderOrders();
    if (state.me) notify('Payment for order #' + id + ' is recorded; it will show as paid shortly. Use Refresh orders.');
  }

  async function payOrder(id) {
    startAction();
    if (state.busy.has(id)) return;
    state.busy.add(id);
    renderOrders();
    let paid = false;
    try {
      const r = await api('POST', '/payment/pay-order', { orderId: String(id) });
      paid = true;
      state.confirming.add(id);
      notify('Payment ' + r.data.paymentId + ' of ' + money(r.data.amount) + ' accepted for order #' + id + '; confirming…');
    } catch (e) {
      handleError(e);
    } finally {
      state.busy.delete(id);
      renderOrders();
    }
    if (paid) await waitForPaid(id);
    else await loadOrders();
  }

  async function cancelOrder(id) {
    startAction();
    if (state.busy.has(id)) return;
    state.busy.add(id);
    renderOrders();
    try {
      await api('POST', '/orders/cancel', { orderId: String(id) });
      notify('Order #' + id + ' cancelled; its copy is back in stock.');
    } catch (e) {
      handleError(e);
    } finally {
      state.busy.delete(id);
    }
    await Promise.all([loadBooks(), loadOrders()]);
  }

  // ---------- start ----------

  document.addEventListener('DOMContentLoaded', async () => {
    $('auth-form').addEventListener('submit', login);
    $('register').addEventListener('click', register);
    $('logout').addEventListener('click', logout);
    $('refresh-books').addEventListener('click', () => { startAction(); loadBooks(); });
    $('refresh-orders').addEventListener('click', () => { startAction(); loadOrders(); });
    $('more-orders').addEventListener('click', () => { startAction(); loadOrders(true); });

    await Promise.all([loadMe(), loadBooks()]);
    renderSession();
    renderBooks();
    if (state.me) await loadOrders();
    else renderOrders();
    document.body.setAttribute('data-ready', 'true');
  });
})();

#!/usr/bin/env node
// Drives the microbook page in headless Debian chromium, as a person would:
// register a fresh user, log out and back in, order a book whose answer is
// lost and click again (the same Idempotency-Key, one order), order it again
// (a new key), pay it, wait until the page shows it paid, screenshot, log out.
//
// Usage: node t/browser/flow.js BASE_URL OUT_DIR
// Prints `ok - <step>` / `not ok - <step>: <reason>` per step, then
// `N passed, M failed`; exits non-zero if any step failed. Whole run <= 60 s.
// Env: CHROMIUM (default /usr/bin/chromium), FLOW_TIMEOUT_MS (default 60000).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const BASE_URL = process.argv[2];
const OUT_DIR = process.argv[3];
if (!BASE_URL || !OUT_DIR) {
  console.error('usage: node t/browser/flow.js BASE_URL OUT_DIR');
  process.exit(2);
}
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const OVERALL_MS = Number(process.env.FLOW_TIMEOUT_MS) || 60000;
const STEP_MS = 10000;

let passed = 0;
let failed = 0;
let aborted = false;
let context = null;
let userDataDir = null;

function ok(step) {
  passed++;
  console.log('ok - ' + step);
}
function notOk(step, reason) {
  failed++;
  console.log('not ok - ' + step + ': ' + String(reason).replace(/\s+/g, ' ').trim());
}

function cleanupDir() {
  if (userDataDir) {
    try { fs.rmSync(userDataDir, { recursive: true, force: true }); } catch (e) { /* best effort */ }
    userDataDir = null;
  }
}

function finish() {
  console.log(passed + ' passed, ' + failed + ' failed');
  process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
}

// Overall time bound: report, close the browser, exit.
const overall = setTimeout(async () => {
  aborted = true;
  notOk('overall', 'flow did not finish within ' + OVERALL_MS + ' ms');
  try { if (context) await Promise.race([context.close(), new Promise((r) => setTimeout(r, 3000))]); } catch (e) { /* ignore */ }
  cleanupDir();
  finish();
  process.exit(1);
}, OVERALL_MS);

async function main() {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-chromium-'));

  const steps = [];
  const step = (name, fn) => steps.push({ name, fn });
  const pageErrors = [];
  let page = null;

  const userName = 'b' + String(Date.now()).slice(-7) + String(Math.floor(Math.random() * 1e4)).padStart(4, '0');
  // strong enough for cracklib (registration refuses weak passwords)
  const pwd = 'Shelf-' + Math.random().toString(36).slice(2, 10) + '-Reader';
  let book = null;      // {bookId, title, stock}
  let orderId = null;

  // Text of the alert area if it is showing, else null.
  async function alertText() {
    const t = (await page.getByRole('alert').innerText()).trim();
    return t || null;
  }
  // Fails with the page's error message if one is shown.
  async function noAlert() {
    const t = await alertText();
    if (t) throw new Error('page shows error: ' + t);
  }
  // Waits until fn() is truthy, or an error shows in the alert area, or timeout.
  async function until(what, fn, ms) {
    const deadline = Date.now() + (ms || STEP_MS);
    for (;;) {
      if (await fn()) return;
      const t = await alertText();
      if (t) throw new Error('page shows error: ' + t);
      if (Date.now() > deadline) throw new Error('timed out waiting for ' + what);
      await page.waitForTimeout(100);
    }
  }
  async function signedInAs() {
    const w = page.locator('#whoami');
    return (await w.count()) ? (await w.innerText()).trim() : null;
  }
  async function loggedOutShown() {
    return (await page.locator('#session-status').innerText()).includes('Not signed in') &&
      (await page.getByRole('button', { name: 'Log in' }).isVisible()) &&
      !(await page.getByRole('button', { name: 'Log out' }).isVisible());
  }
  function orderRow(id) {
    return page.locator('#orders tr[data-order-id="' + id + '"]');
  }

  step('launch chromium', async () => {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--disable-quic', '--no-first-run'],
      viewport: { width: 1280, height: 860 },
      timeout: 20000,
    });
    context.setDefaultTimeout(STEP_MS);
    page = context.pages()[0] || (await context.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
    // nginx sends a Content-Security-Policy: anything of the page it blocks is an error
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) pageErrors.push('CSP: ' + m.text());
    });
  });

  step('open page', async () => {
    const res = await page.goto(BASE_URL, { waitUntil: 'load' });
    if (!res || !res.ok()) throw new Error('GET ' + BASE_URL + ' answered ' + (res ? res.status() : 'nothing'));
    await page.waitForSelector('body[data-ready="true"]', { timeout: STEP_MS });
    await noAlert();
    if (!(await page.getByRole('heading', { name: 'Books' }).isVisible())) throw new Error('no Books heading');
    if (!(await loggedOutShown())) throw new Error('fresh browser does not show the logged-out state');
  });

  step('book list shows a book with stock', async () => {
    await until('books to be listed', async () => (await page.locator('#books li.book').count()) > 0);
    const items = await page.locator('#books li.book').evaluateAll((lis) => lis.map((li) => ({
      bookId: li.getAttribute('data-book-id'),
      stock: Number(li.getAttribute('data-stock')),
      title: li.querySelector('.book-title').textContent,
      price: li.querySelector('.price').textContent,
    })));
    for (const b of items) {
      if (!/^\d+\.\d\d$/.test(b.price)) throw new Error('price of "' + b.title + '" shown as "' + b.price + '"');
    }
    book = items.find((b) => b.stock > 0);
    if (!book) throw new Error('no book has stock (' + items.length + ' books listed)');
  });

  step('register ' + userName, async () => {
    await page.getByLabel('User name').fill(userName);
    await page.getByLabel('Password').fill(pwd);
    await page.getByRole('button', { name: 'Register' }).click();
    await until('signed in as ' + userName, async () => (await signedInAs()) === userName);
  });

  step('log out after register', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await until('logged-out state', loggedOutShown);
  });

  step('log in as ' + userName, async () => {
    await page.getByLabel('User name').fill(userName);
    await page.getByLabel('Password').fill(pwd);
    await page.getByRole('button', { name: 'Log in' }).click();
    await until('signed in as ' + userName, async () => (await signedInAs()) === userName);
    if (!(await page.getByRole('heading', { name: 'My orders' }).isVisible())) throw new Error('My orders not shown');
  });

  // The server makes the order but its answer is lost (the connection reset): the
  // page shows the error, and clicking again repeats the same attempt with the
  // same Idempotency-Key, so the server answers 200 with that order, not a second.
  let retryKey = null;
  step('an order whose answer is lost, clicked again, reuses its key; one order made', async () => {
    if (!book) throw new Error('no book picked');
    const seen = []; // {key, status} per request that reached the server
    await page.route('**/orders/new', async (route) => {
      const key = route.request().headers()['idempotency-key'];
      const resp = await route.fetch();
      seen.push({ key, status: resp.status() });
      if (seen.length === 1) await route.abort('connectionreset');
      else await route.fulfill({ response: resp });
    });
    try {
      const btn = page.getByRole('button', { name: 'Order ' + book.title, exact: true });
      await btn.click();
      const deadline = Date.now() + STEP_MS;
      while (!(await alertText())) {
        if (Date.now() > deadline) throw new Error('no error shown for the lost answer');
        await page.waitForTimeout(100);
      }
      await btn.click();
      await until('the order to be listed', async () => (await page.locator('#orders tr[data-order-id]').count()) > 0);
      await page.waitForTimeout(300); // a second order, if one were made, would be listed too
    } finally {
      await page.unroute('**/orders/new');
    }
    if (seen.length !== 2) throw new Error(seen.length + ' requests reached the server, want 2');
    if (!seen[0].key || seen[0].key !== seen[1].key) {
      throw new Error('the retry carried key ' + seen[1].key + ', the lost attempt ' + seen[0].key);
    }
    if (seen[0].status !== 201 || seen[1].status !== 200) {
      throw new Error('statuses ' + seen[0].status + ', ' + seen[1].status + ', want 201 then 200 (the same order)');
    }
    const rows = await page.locator('#orders tr[data-order-id]').count();
    if (rows !== 1) throw new Error(rows + ' orders listed, want 1');
    retryKey = seen[0].key;
    await noAlert();
  });

  step('order a book with stock (a new attempt, a new key)', async () => {
    if (!book) throw new Error('no book picked');
    const btn = page.getByRole('button', { name: 'Order ' + book.title, exact: true });
    const before = await page.locator('#orders tr[data-order-id]').count();
    const req = page.waitForRequest('**/orders/new');
    await btn.click();
    const key = (await req).headers()['idempotency-key'];
    if (!key || key === retryKey) throw new Error('the new attempt carried key ' + key + ', the last one ' + retryKey);
    // The new order is the newest row.
    await until('the order to be listed', async () => (await page.locator('#orders tr[data-order-id]').count()) > before);
    orderId = await page.locator('#orders tr[data-order-id]').first().getAttribute('data-order-id');
    const row = orderRow(orderId);
    const st = await row.getAttribute('data-state');
    if (st !== 'unpaid') throw new Error('new order ' + orderId + ' is ' + st + ', expected unpaid');
    const text = await row.innerText();
    if (!text.includes(book.title)) throw new Error('order row does not name the book: ' + text);
    await noAlert();
  });

  step('pay the order', async () => {
    if (!orderId) throw new Error('no order');
    await page.getByRole('button', { name: 'Pay order ' + orderId, exact: true }).click();
    await until('order ' + orderId + ' to show paid', async () => {
      const row = orderRow(orderId);
      return (await row.count()) && (await row.getAttribute('data-state')) === 'paid' &&
        (await row.locator('.state').innerText()).trim() === 'paid';
    }, 8000);
    if (await page.getByRole('button', { name: 'Pay order ' + orderId, exact: true }).count()) {
      throw new Error('paid order still offers a Pay button');
    }
  });

  step('screenshot after-pay.png', async () => {
    await page.screenshot({ path: path.join(OUT_DIR, 'after-pay.png'), fullPage: true });
  });

  step('log out', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await until('logged-out state', loggedOutShown);
    if (await page.locator('#orders-section').isVisible()) throw new Error('orders still visible after logout');
  });

  step('still logged out after reload', async () => {
    await page.reload({ waitUntil: 'load' });
    await page.waitForSelector('body[data-ready="true"]', { timeout: STEP_MS });
    await noAlert();
    if (!(await loggedOutShown())) throw new Error('page shows a session after logout + reload');
  });

  step('no script errors in the page', async () => {
    if (pageErrors.length) throw new Error(pageErrors.join(' | '));
  });

  let broken = null;
  for (const s of steps) {
    if (aborted) return;
    if (broken && s.name !== 'no script errors in the page') {
      notOk(s.name, 'skipped: "' + broken + '" failed');
      continue;
    }
    try {
      await s.fn();
      ok(s.name);
    } catch (e) {
      notOk(s.name, e && e.message ? e.message.split('\n')[0] : e);
      broken = broken || s.name;
      if (page) {
        try { await page.screenshot({ path: path.join(OUT_DIR, 'failure.png'), fullPage: true }); } catch (e2) { /* ignore */ }
      }
    }
  }
}

main()
  .catch((e) => notOk('flow', e && e.message ? e.message : e))
  .finally(async () => {
    if (aborted) return;
    clearTimeout(overall);
    try { if (context) await context.close(); } catch (e) { /* ignore */ }
    cleanupDir();
    finish();
  });

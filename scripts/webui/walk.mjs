// walk.mjs: the earlier IronLayer's web UI against this API, every screen.
//
// Usage: node walk.mjs UI_DIR BASE_URL DEMO_REPO SHOTS_DIR
//   UI_DIR     the earlier implementation's frontend/, npm-installed (it brings playwright-core)
//   BASE_URL   where proxy.mjs serves the built UI and this API on one origin
//   DEMO_REPO  the demo repository ./dev up made (var/repos/demo)
//   SHOTS_DIR  where a screenshot of each screen goes
// Signs up through the UI, makes plans through the API as the same user, then
// walks each screen by client-side navigation (a reload would drop the
// in-memory token unless cookie sessions restore it) and prints, per screen,
// the page errors, console errors and API answers of 400 and above.
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

const [UI_DIR, BASE, REPO, SHOTS] = process.argv.slice(2);
if (!SHOTS) {
  console.error('usage: node walk.mjs UI_DIR BASE_URL DEMO_REPO SHOTS_DIR');
  process.exit(2);
}
const require = createRequire(`${UI_DIR}/package.json`);
const { chromium } = require('playwright-core');
fs.mkdirSync(SHOTS, { recursive: true });

const email = `walk${Date.now()}@example.com`, password = 'Correct horse 1';
const report = [];
let screen = 'start', problems = [];

function note(kind, text) { problems.push(`${kind}: ${text}`); }

async function api(method, path, token, body) {
  const r = await fetch(`${BASE}/api/v1${path}`, {
    method, headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, json: await r.json().catch(() => null) };
}
const sha = (rev) => execFileSync('git', ['-C', REPO, 'rev-parse', rev]).toString().trim();

async function go(page, path) {
  // client-side navigation: a reload would lose the in-memory token
  await page.evaluate((p) => { history.pushState({}, '', p); dispatchEvent(new PopStateEvent('popstate')); }, path);
  await page.waitForTimeout(1500);
}

async function finish(page, name) {
  const crashed = await page.getByText('Something went wrong').count();
  if (crashed) note('crash', 'error boundary shown');
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
  report.push({ screen: name, ok: problems.length === 0, problems });
  problems = [];
}

const browser = await chromium.launch({ executablePath: process.env.IL_CHROMIUM || '/usr/bin/chromium',
                                        args: ['--no-sandbox'] });
const page = await browser.newPage();
page.on('pageerror', (e) => note('pageerror', e.message));
// failed requests are reported (better) by the response handler below
page.on('console', (m) => {
  if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
    note('console', m.text().slice(0, 200));
});
let signedIn = false;   // before, GET /auth/session answers 401: there is no session yet
page.on('response', (r) => {
  if (!signedIn && r.status() === 401 && r.url().endsWith('/api/v1/auth/session'))
    return;
  if (r.url().includes('/api/') && r.status() >= 400)
    note('http', `${r.request().method()} ${r.url().replace(BASE, '')} -> ${r.status()}`);
});
page.on('dialog', (d) => d.accept());

// signup through the UI
screen = 'signup';
await page.goto(`${BASE}/signup`);
await page.fill('#displayName', 'Walker');
await page.fill('#email', email);
await page.fill('#password', password);
await page.fill('#confirmPassword', password);
await page.click('button[type=submit]');
await page.waitForURL(`${BASE}/`, { timeout: 15000 }).catch(() => note('nav', 'signup did not land on /'));
signedIn = true;
await finish(page, 'signup');

// data, made through the API as the same user
const login = await api('POST', '/auth/login', null, { email, password });
const token = login.json.access_token;
const gen = async (b, t) => (await api('POST', '/plans/generate', token,
  { repo_path: REPO, base_sha: sha(b), target_sha: sha(t) })).json.plan_id;
const first = await gen('HEAD~2', 'HEAD~1');
await api('POST', `/plans/${first}/approve`, token, {});
const applied = await api('POST', `/plans/${first}/apply`, token, {});
const runId = applied.json.runs.find((r) => r.model_name === 'analytics.orders_daily').run_id;
const second = await gen('HEAD~1', 'HEAD');

await go(page, '/backfills');
await go(page, '/');
await page.waitForTimeout(1000);
await finish(page, 'dashboard');

await go(page, `/plans/${second}`);
for (const tab of ['DAG', 'Steps', 'Cost', 'What-If'])   // Contracts/Tests show only when there are some
  await page.getByRole('button', { name: new RegExp(`^${tab}`) }).first().click().catch(() => note('tab', `${tab} not found`));
await page.getByRole('button', { name: /Generate Advisory/ }).click().catch(() => note('button', 'Generate Advisory'));
await page.waitForTimeout(2500);
await finish(page, 'plan-advisory');
await page.getByRole('button', { name: /^Approve$/ }).click().catch(() => note('button', 'Approve'));
await page.fill('input[placeholder="e.g. jane.doe"]', 'walker').catch(() => note('input', 'approver name'));
await page.fill('textarea', 'fine');
await page.getByRole('button', { name: /Confirm Approval|Approve Plan|^Approve$/ }).last().click().catch(() => note('button', 'confirm approval'));
await page.waitForTimeout(1500);
await page.getByRole('button', { name: /Apply Plan/ }).click().catch(() => note('button', 'Apply Plan'));
await page.waitForTimeout(3000);
await finish(page, 'plan-approve-apply');

await go(page, '/models');
await finish(page, 'models');
await go(page, '/models/analytics.orders_daily');
await page.waitForTimeout(1000);
await finish(page, 'model-detail');
await go(page, `/runs/${runId}`);
await finish(page, 'run-detail');
await go(page, '/backfills');
await finish(page, 'backfills');

await go(page, '/environments');
await page.getByRole('button', { name: /New Environment/ }).click().catch(() => note('button', 'New Environment'));
await page.fill('input[placeholder="e.g. staging-v2"]', 'staging_v2');
await page.fill('input[placeholder="e.g. analytics"]', 'analytics');
await page.fill('input[placeholder="e.g. stg_v2"]', 'stg_v2');
await page.fill('input[placeholder="your-username"]', 'walker');
await page.getByRole('button', { name: /Create Environment/ }).click();
await page.waitForTimeout(2000);
await finish(page, 'environment-create');
await page.locator('div.rounded-lg', { hasText: 'staging_v2' }).getByRole('button', { name: /Delete/ }).last()
  .click().catch(() => note('button', 'Delete staging_v2'));
await page.waitForTimeout(2000);
const left = (await api('GET', '/environments', token)).json.map((e) => e.name);
if (left.includes('staging_v2')) note('state', 'staging_v2 still listed after delete');
await finish(page, 'environment-delete');

await go(page, '/settings');
await page.fill('input[placeholder="sk-ant-..."]', 'sk-ant-api03-walkthroughkey0123456789');
await page.getByRole('button', { name: /^Save$/ }).click().catch(() => note('button', 'Save'));
await page.waitForTimeout(1500);
const saved = await page.getByText(/API key saved \(sk-ant-\.\.\.\)/).count();
if (!saved) note('text', 'no "API key saved (sk-ant-...)" message');
await page.getByRole('button', { name: /Test Key/ }).click().catch(() => note('button', 'Test Key'));
await page.waitForTimeout(3000);
await finish(page, 'settings-key');
await page.getByRole('button', { name: /Remove|Delete/ }).first().click().catch(() => note('button', 'Remove key'));
await page.waitForTimeout(1500);
await finish(page, 'settings-delete');

// a third plan, rejected through the UI
const third = await gen('HEAD~2', 'HEAD');
await go(page, `/plans/${third}`);
await page.getByRole('button', { name: /^Reject$/ }).click().catch(() => note('button', 'Reject'));
await page.fill('input[placeholder="e.g. jane.doe"]', 'walker').catch(() => note('input', 'rejecter name'));
await page.fill('textarea', 'not now');
await page.getByRole('button', { name: /Confirm Rejection/ }).click().catch(() => note('button', 'confirm rejection'));
await page.waitForTimeout(1500);
if ((await api('GET', `/plans/${third}`, token)).json.status !== 'rejected') note('state', 'plan not rejected');
await finish(page, 'plan-reject');

// onboarding: plan choice, key skipped, an environment
await go(page, '/onboarding');
await page.fill('input[placeholder="https://dbc-abc123.cloud.databricks.com"]', 'https://dbc-1.cloud.databricks.com');
await page.fill('input[placeholder="dapi..."]', 'dapi-not-a-token');
await page.getByRole('button', { name: /^Continue$/ }).click();
await page.waitForTimeout(1500);
await page.getByRole('button', { name: /Get Started Free/ }).first().click({ timeout: 10000 }).catch(() => note('button', 'Get Started Free'));
await page.getByRole('button', { name: /Skip for now/ }).click({ timeout: 10000 }).catch(() => note('button', 'Skip for now'));
await page.screenshot({ path: `${SHOTS}/onboarding-env.png`, fullPage: true });
await page.fill('input[placeholder="dev"]', 'onboard', { timeout: 10000 }).catch(() => note('input', 'environment name'));
await page.fill('input[placeholder="analytics"]', 'analytics', { timeout: 10000 }).catch(() => {});
await page.fill('input[placeholder="ironlayer_dev"]', 'onb', { timeout: 10000 }).catch(() => {});
await page.getByRole('button', { name: /Create Environment & Go to Dashboard/ }).click().catch(() => note('button', 'Create Environment'));
await page.waitForTimeout(2000);
if (!(await api('GET', '/environments', token)).json.some((e) => e.name === 'onboard')) note('state', 'onboarding made no environment');
await finish(page, 'onboarding');

for (const [path, name] of [['/billing', 'billing'], ['/usage', 'usage'],
                            ['/admin', 'admin'], ['/admin/reports', 'reports']]) {
  await go(page, path);
  await finish(page, name);
}

// log in again on a fresh page
const page2 = await browser.newPage();
page2.on('pageerror', (e) => note('pageerror', e.message));
await page2.goto(`${BASE}/login`);
await page2.fill('#email', email);
await page2.fill('#password', password);
await page2.click('button[type=submit]');
await page2.waitForURL(`${BASE}/`, { timeout: 15000 }).catch(() => note('nav', 'login did not land on /'));
await finish(page2, 'login');

// a reload: the session comes back only with /auth/session (cookies)
await page.goto(`${BASE}/models`);
await page.waitForTimeout(2000);
if (page.url().includes('/login')) note('session', 'reload went to /login');
await finish(page, 'reload');

// sign out: back to the login page, and a reload does not sign in again
await page.getByRole('button', { name: /Walker/ }).click().catch(() => note('button', 'user menu'));
await page.getByRole('button', { name: /Sign out/ }).click().catch(() => note('button', 'Sign out'));
await page.waitForTimeout(1500);
signedIn = false;
await page.goto(`${BASE}/models`);
await page.waitForTimeout(2000);
if (!page.url().includes('/login')) note('session', 'still signed in after sign out and reload');
await finish(page, 'logout');

await browser.close();
for (const r of report)
  console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.screen}` +
              (r.ok ? '' : '\n      ' + [...new Set(r.problems)].join('\n      ')));

// browser-test.mjs: Swagger UI at /docs, driven in headless Chromium by playwright-core.
//
// Run by t/docs/run-browser-test.sh, which brings up a private stack and sets:
//   IL_DOCS_BASE     http://127.0.0.1:PORT
//   IL_SPEC          the source tree's docs/openapi.json
//   IL_NODE_MODULES  the npm prefix that holds playwright-core
//   IL_CHROMIUM      the browser (/usr/bin/chromium)
//   IL_OUT           where the screenshot goes
// Checks: /openapi.json is the spec; no documented operation is unknown to the
// server (404 "no such resource" or 405); every tag shows on /docs; a token from
// signup entered with "Authorize" lets "Try it out" + "Execute" of
// GET /api/v1/auth/me answer 200 with the signed-up email; the page loads
// nothing from outside the server.
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const env = (name) => {
	const v = process.env[name];
	if (!v) throw new Error(`${name} is not set (run t/docs/run-browser-test.sh)`);
	return v;
};
const BASE = env('IL_DOCS_BASE');
const OUT = env('IL_OUT');
const spec = JSON.parse(readFileSync(env('IL_SPEC'), 'utf8'));
const require = createRequire(join(resolve(env('IL_NODE_MODULES')), 'package.json'));
const { chromium } = require('playwright-core');

const TIMEOUT = 20000;
let failures = 0;
const t0 = Date.now();
const log = (msg) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
function check(ok, what) {
	log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
	if (!ok) failures++;
}

// ---- the spec as served, and every documented operation reaches its route
async function checkServedSpec() {
	const res = await fetch(`${BASE}/openapi.json`);
	const served = res.ok ? await res.json() : null;
	check(res.status === 200 && /application\/json/.test(res.headers.get('content-type') || ''),
	      `GET /openapi.json: ${res.status} ${res.headers.get('content-type')}`);
	check(JSON.stringify(served) === JSON.stringify(spec),
	      '/openapi.json is docs/openapi.json');
}

async function checkOperationsRoute() {
	const bad = [];
	let n = 0;
	for (const [path, item] of Object.entries(spec.paths)) {
		for (const method of ['get', 'put', 'post', 'delete', 'patch']) {
			if (!item[method]) continue;
			n++;
			// path parameters: a value of the documented shape
			const url = path.replace(/{([^}]+)}/g, (_, name) => ({
				id: path.startsWith('/api/v1/plans') ? '0'.repeat(64)
					: '00000000-0000-0000-0000-000000000000',
				name: 'docs_check', limit: 'environments',
			}[name] || 'x'));
			const init = { method: method.toUpperCase(), redirect: 'manual', headers: {} };
			if (['post', 'put', 'patch'].includes(method)) {
				init.headers['Content-Type'] = 'application/json';
				init.body = '{}';
			}
			// no token: private routes answer 401, public ones their own checks
			const res = await fetch(BASE + url, init);
			const body = await res.text();
			if (res.status === 405 || (res.status === 404 && body.includes('no such resource')))
				bad.push(`${method.toUpperCase()} ${path} -> ${res.status} ${body}`);
		}
	}
	check(bad.length === 0 && n > 0,
	      `all ${n} documented operations reach a route${bad.length ? ': ' + bad.join('; ') : ''}`);
}

async function signup() {
	const email = `docs-${Date.now()}-${process.pid}@example.com`;
	const res = await fetch(`${BASE}/api/v1/auth/signup`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ email, password: 'browser test password', display_name: 'Docs' }),
	});
	const body = await res.json();
	check(res.status === 201 && typeof body.access_token === 'string',
	      `signup ${email}: ${res.status}`);
	return { email, token: body.access_token };
}

// ---- the page
async function browse(email, token) {
	const profile = mkdtempSync(join(tmpdir(), 'ironlayer-chromium-'));
	const context = await chromium.launchPersistentContext(profile, {
		executablePath: process.env.IL_CHROMIUM || '/usr/bin/chromium',
		headless: true,
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
		       '--disable-background-networking', '--disable-component-update',
		       '--disable-sync', '--disable-quic'],
		viewport: { width: 1280, height: 900 },
	});
	try {
		const page = context.pages()[0] || await context.newPage();
		page.setDefaultTimeout(TIMEOUT);
		const outside = [];
		const origin = new URL(BASE).origin;
		page.on('request', (req) => {
			const u = req.url();
			if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:'))
				outside.push(u);
		});
		const errors = [];
		page.on('pageerror', (e) => errors.push(String(e)));

		const res = await page.goto(`${BASE}/docs`, { waitUntil: 'domcontentloaded' });
		check(res !== null && res.status() === 200, `GET /docs: ${res && res.status()}`);
		await page.locator('.swagger-ui .info .title').waitFor();
		check((await page.locator('.swagger-ui .info .title').innerText()).includes(spec.info.title),
		      'the page shows the spec\'s title');

		for (const tag of spec.tags) {
			const h = page.locator(`#operations-tag-${tag.name}`);
			await h.waitFor({ state: 'visible' }).catch(() => {});
			check(await h.isVisible(), `tag section "${tag.name}" is visible`);
		}

		// Authorize with the bearer token
		await page.locator('.scheme-container button.authorize').click();
		const modal = page.locator('.dialog-ux .modal-ux');
		await modal.waitFor();
		await modal.locator('#auth-bearer-value').fill(token);
		await modal.locator('.auth-btn-wrapper button.authorize').click();
		// once applied, the button becomes "Logout" ("Remove authorization")
		await modal.locator('.auth-btn-wrapper button[aria-label="Remove authorization"]').waitFor();
		await modal.locator('.auth-btn-wrapper button.btn-done').click();
		await modal.waitFor({ state: 'detached' });
		log('authorized with the signup token');

		// GET /api/v1/auth/me: Try it out, Execute
		const op = page.locator('#operations-auth-me');
		await op.locator('.opblock-summary').first().click();
		await op.locator('button.try-out__btn').click();
		await op.locator('button.execute').click();
		const live = op.locator('.live-responses-table .response');
		await live.first().waitFor();
		const status = (await live.first().locator('.response-col_status').innerText()).trim();
		const shown = await op.locator('.live-responses-table').innerText();
		check(status === '200', `GET /api/v1/auth/me through "Try it out": status ${status}`);
		check(shown.includes(email), 'the response panel shows the signed-up email');
		const curl = await op.locator('.curl-command').innerText().catch(() => '');
		check(curl.includes('Authorization: Bearer'), 'the request carried the bearer token');

		mkdirSync(OUT, { recursive: true });
		const shot = join(OUT, 'docs.png');
		await op.scrollIntoViewIfNeeded();
		await page.screenshot({ path: shot, fullPage: true });
		log(`screenshot: ${shot}`);

		check(outside.length === 0, `the page loaded nothing from outside${outside.length ?
		      ': ' + outside.join(' ') : ''}`);
		check(errors.length === 0, `no script errors${errors.length ? ': ' + errors.join('; ') : ''}`);
	} finally {
		await context.close();
		rmSync(profile, { recursive: true, force: true });
	}
}

try {
	await checkServedSpec();
	await checkOperationsRoute();
	const { email, token } = await signup();
	await browse(email, token);
} catch (e) {
	log(`FAIL ${e && e.stack ? e.stack : e}`);
	failures++;
}
log(failures ? `${failures} check(s) failed` : 'all checks passed');
process.exit(failures ? 1 : 0);

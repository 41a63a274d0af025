// Drives the fixture report in Debian's Chromium (playwright-core, no bundled browser):
// the page works offline with no console errors and no request beyond its own file, the
// hostile reply never runs, and filtering, expanding and the matrix's deep links work.
// Usage: node check.mjs DIR   (DIR holds the output of `examples/fixture_report.rs`)
import { chromium } from 'playwright-core';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const dir = process.argv[2];
if (!dir) { console.error('usage: node check.mjs DIR'); process.exit(2); }
const url = (f) => pathToFileURL(path.join(dir, f)).href;
let failures = 0, checks = 0;
const check = (ok, what) => {
  checks += 1;
  if (ok) { console.log(`ok   ${what}`); } else { failures += 1; console.log(`FAIL ${what}`); }
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  timeout: 60_000,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(10_000);
  const problems = [];
  page.on('console', (m) => problems.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => { if (!r.url().startsWith('file://')) { problems.push(`request: ${r.url()}`); } });

  const student = url('student-alice.html');
  await page.goto(student);
  check(await page.getAttribute('html', 'data-js-ready') === '1', 'target page: script ran under its CSP');
  check(await page.getAttribute('html', 'data-pwned') === null, 'target page: the hostile reply did not run');
  check(await page.locator('text=<script>document.documentElement').count() > 0, 'target page: the hostile reply is shown as text');

  const visible = () => page.locator('details.case:not([hidden])').count();
  const total = await page.locator('details.case').count();
  check(total === 8 && await visible() === 8, `all ${total} cases shown at first`);

  await page.fill('#f-text', 'rcpt');
  check(await visible() === 1 && await page.isVisible('#case-smtp\\.sequence\\.rcpt-before-mail'), 'text filter "rcpt" leaves the one case');
  check((await page.textContent('#f-count')).trim() === '1 of 8 cases', 'the count says 1 of 8');
  await page.fill('#f-text', '5321 §4.1.4');
  check(await visible() === 1, 'text filter matches an RFC section');
  await page.fill('#f-text', 'no such case anywhere');
  check(await visible() === 0 && await page.isVisible('#f-none'), 'no match says so');
  await page.click('#f-reset');
  check(await visible() === 8 && !(await page.isVisible('#f-none')), 'reset shows everything');

  await page.uncheck('input[name=outcome][value=pass]');
  check(await visible() === 7 && !(await page.isVisible('#case-smtp\\.greeting\\.banner')), 'unchecking pass hides the passing case');
  await page.click('#f-reset');
  await page.selectOption('#f-proto', 'pop3');
  check(await visible() === 2, 'protocol select: pop3 has 2 cases');
  await page.click('#f-reset');
  await page.click('button[data-only=fail]');
  const failIds = await page.locator('details.case:not([hidden])').evaluateAll((els) => els.map((e) => e.getAttribute('data-outcome')));
  check(failIds.length === 2 && failIds.every((o) => o === 'fail'), 'the fail badge shows only the 2 failures');
  await page.click('#f-reset');

  const bareLf = page.locator('#case-smtp\\.line\\.bare-lf');
  check(!(await bareLf.evaluate((d) => d.open)) && !(await bareLf.locator('table.xchg').isVisible()), 'cases start collapsed');
  await bareLf.locator('summary').click();
  check(await bareLf.evaluate((d) => d.open) && await bareLf.locator('table.xchg').isVisible(), 'clicking a case expands its exchange');
  check(await bareLf.locator('ins').first().isVisible() && await bareLf.locator('del').first().isVisible(), 'expected vs actual differences are marked');
  check(await bareLf.locator('tr.sent .c[title=LF]').count() === 2 && await bareLf.locator('tr.sent .x').count() === 2,
    'bare LF and high bytes are visible in the transcript');
  await page.screenshot({ path: path.join(dir, 'student.png'), fullPage: true });
  await bareLf.locator('summary').click();
  check(!(await bareLf.evaluate((d) => d.open)), 'clicking again collapses it');
  await page.click('#f-expand');
  check(await page.locator('details.case[open]').count() === 8, 'expand all opens every case');
  await page.click('#f-collapse');
  check(await page.locator('details.case[open]').count() === 0, 'collapse all closes them');

  await page.goto(`${student}?outcome=fail,error&protocol=smtp`);
  check(await visible() === 2, 'filters from the URL: ?outcome=fail,error&protocol=smtp');

  await page.goto(url('index.html'));
  check(await page.getAttribute('html', 'data-js-ready') === '1', 'index: script ran');
  const rows = () => page.locator('#matrix tr.mrow:not([hidden])').count();
  check(await rows() === 9, 'index: the matrix has 9 case rows');
  await page.check('#m-differ');
  check(await rows() === 8, 'index: "only where targets differ" hides the agreeing row');
  await page.click('a[href="student-alice.html#case-smtp.line.bare-lf"]');
  await page.waitForURL(/student-alice\.html#case-smtp\.line\.bare-lf$/);
  check(await page.locator('#case-smtp\\.line\\.bare-lf').evaluate((d) => d.open), 'a matrix cell opens that case on the target page');

  check(problems.length === 0, `no console output, page errors or outside requests${problems.length ? ': ' + problems.join(' | ') : ''}`);
} finally {
  await browser.close();
}
console.log(`${checks - failures}/${checks} browser checks passed`);
process.exit(failures === 0 ? 0 : 1);

// The API reference page in a real browser (Debian's Chromium, headless):
// it loads with nothing from outside the service, a user enters a token,
// tries `GET /api/v1/users` and sees 200.
//
//   node tests/browser/docs.mjs BASE_URL TOKEN [SCREENSHOT.png]
import { chromium } from 'playwright-core';

const [base, token, screenshot] = process.argv.slice(2);
if (!base || !token) {
  console.error('usage: node docs.mjs BASE_URL TOKEN [SCREENSHOT.png]');
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const fail = async (message) => {
  console.error(`docs page: ${message}`);
  await browser.close();
  process.exit(1);
};
try {
  const page = await browser.newPage();
  const own = new URL(base).host;
  const outside = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if ((u.protocol === 'http:' || u.protocol === 'https:') && u.host !== own) outside.push(r.url());
  });
  const answer = await page.goto(`${base}/docs`);
  if (answer.status() !== 200) await fail(`GET /docs answered ${answer.status()}`);

  // Enter the token.
  await page.locator('.auth-wrapper .authorize').click();
  await page.locator('.modal-ux input[type=text], .modal-ux input:not([type])').first().fill(token);
  await page.locator('.modal-ux .auth-btn-wrapper .authorize').click();
  await page.locator('.modal-ux .btn-done').click();

  // Try the paged list of users.
  const op = page.locator('#operations-users-listUsers');
  await op.locator('.opblock-summary').first().click();
  await op.locator('.try-out__btn').click();
  await op.locator('.execute').click();
  const status = op.locator('.live-responses-table .response .response-col_status').first();
  await status.waitFor({ timeout: 15000 });
  const code = (await status.textContent()).trim();
  const body = await op.locator('.live-responses-table .response-col_description pre').first().textContent();
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: false });
  if (code !== '200') await fail(`the tried call answered ${code}: ${body}`);
  if (!body.includes('"paging"')) await fail(`the tried call's body is not a page of users: ${body}`);
  if (outside.length) await fail(`requests left the service: ${outside.join(', ')}`);
  console.log(`docs page: token entered, GET /api/v1/users tried: ${code}`);
} catch (e) {
  await fail(e.message);
}
await browser.close();

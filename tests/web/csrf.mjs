// Journey: a write from the page's own context without the X-CSRF-Token
// header is refused (403 naming the header), although the session cookie
// goes with it; the same write with the session's token succeeds.
import { PASSWORD, check, journey } from './harness.mjs';

await journey('csrf', async (j) => {
  j.generate(50);
  const user = j.addUser({ email: 'sol.service@example.com', name: 'Sol Service', role: 'service', department: 'service' });
  await j.serve();
  const page = await j.newPage();
  await page.goto(j.url + '/customers/2');
  await page.waitForURL(/\/sign-in\?next=%2Fcustomers%2F2/);
  await j.ready(page);
  await j.axe(page, 'sign-in on the way to a customer');
  await page.getByLabel('E-mail').fill(user.email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Back where the person was going.
  await page.waitForURL(/\/customers\/2$/);
  await j.ready(page);
  await j.axe(page, 'customer 360 after signing in');

  const write = (withToken) =>
    page.evaluate(async (withToken) => {
      const headers = { 'Content-Type': 'application/json' };
      if (withToken) headers['X-CSRF-Token'] = (await (await fetch('/v1/session')).json()).csrfToken;
      const res = await fetch('/v1/customers/2/consents/post', {
        method: 'PUT',
        headers,
        body: JSON.stringify({ purpose: 'marketing', granted: false, source: 'csrf-test' }),
      });
      return { status: res.status, body: await res.text() };
    }, withToken);

  const refused = await write(false);
  check(refused.status === 403, `a write without X-CSRF-Token answered ${refused.status}: ${refused.body}`);
  check(refused.body.includes('X-CSRF-Token'), `the refusal does not name the header: ${refused.body}`);
  const before = await j.api('GET', '/v1/customers/2/view');
  check(!before.json.consents.some((c) => c.source === 'csrf-test'), 'the refused write was stored');

  const accepted = await write(true);
  check(accepted.status === 200, `the same write with the token answered ${accepted.status}: ${accepted.body}`);
  const after = await j.api('GET', '/v1/customers/2/view');
  check(after.json.consents.some((c) => c.channel === 'post' && c.source === 'csrf-test' && c.granted === false), 'the write with the token is not stored');
  await page.reload();
  await j.ready(page);
  await page.locator('#consents').getByRole('row', { name: /post/ }).getByText('withdrawn').waitFor();
  await j.screenshot(page, 'consents.png');
  j.assertNoPageProblems(page);
});

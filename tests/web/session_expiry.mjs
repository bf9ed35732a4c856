// Journey: the session ends while the person is typing. The next call meets
// 401, the workspace asks them to sign in again over the page, and once they
// have, the call goes through with what they typed; the page never left.
import { PASSWORD, check, journey } from './harness.mjs';

await journey('session_expiry', async (j) => {
  j.generate(50);
  const user = j.addUser({ email: 'mo.marketing@example.com', name: 'Mo Marketing', role: 'marketing', department: 'marketing' });
  await j.serve();
  const page = await j.newPage();
  await page.goto(j.url + '/customers/2');
  await page.waitForURL(/\/sign-in/);
  await j.ready(page);
  await j.axe(page, 'sign-in');
  await page.getByLabel('E-mail').fill(user.email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/customers\/2$/);
  await j.ready(page);
  // A marketer's navigation has the rules, not the users (admin only).
  const nav = page.getByRole('navigation', { name: 'Main' });
  check((await nav.getByRole('link', { name: 'Decision rules' }).count()) === 1, 'a marketer is not offered the rules');
  check((await nav.getByRole('link', { name: 'Users' }).count()) === 0, 'a marketer is offered the users');

  await j.axe(page, 'customer 360');
  const consents = page.locator('#consents');
  await consents.getByLabel('Channel', { exact: true }).fill('push');
  await consents.getByLabel('Consent', { exact: true }).selectOption('true');
  // The session ends on the server (as when it expires, or an admin disables the account).
  const ended = await page.evaluate(async () => {
    const token = (await (await fetch('/v1/session')).json()).csrfToken;
    return (await fetch('/v1/session', { method: 'DELETE', headers: { 'X-CSRF-Token': token } })).status;
  });
  check(ended === 204, `DELETE /v1/session answered ${ended}`);

  await consents.getByRole('button', { name: 'Record consent' }).click();
  const dialog = page.getByRole('dialog', { name: 'Your session has ended' });
  await dialog.waitFor();
  await j.axe(page, 'sign in again');
  await j.screenshot(page, 'session-ended.png');
  check((await dialog.getByLabel('E-mail').inputValue()) === user.email, 'the dialog does not offer the same e-mail');
  await dialog.getByLabel('Password').fill(PASSWORD);
  await dialog.getByRole('button', { name: 'Sign in' }).click();
  await dialog.waitFor({ state: 'detached' });
  // The typed consent went through after signing in again, on the same page.
  await consents.getByRole('row', { name: /push/ }).getByText('granted').waitFor();
  check(page.url().endsWith('/customers/2'), `the page changed: ${page.url()}`);
  const view = await j.api('GET', '/v1/customers/2/view');
  check(view.json.consents.some((c) => c.channel === 'push' && c.granted === true && c.source === 'workspace'), 'the consent typed before the session ended is not stored');
  j.assertNoPageProblems(page);
});

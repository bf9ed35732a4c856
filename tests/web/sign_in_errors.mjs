// Journey: signing in wrong. A wrong password shows the server's error beside
// the password field; an empty e-mail is named beside the e-mail field; and
// after repeated failures the lockout says how long to wait.
import { PASSWORD, check, journey } from './harness.mjs';

// The text beside an input: the element its aria-describedby names.
async function errorBeside(page, label) {
  const input = page.getByLabel(label, { exact: true });
  await page.waitForFunction((el) => el.getAttribute('aria-invalid') === 'true', await input.elementHandle());
  const ids = (await input.getAttribute('aria-describedby')) || '';
  const id = ids.split(' ').find((x) => x.endsWith('-error'));
  check(id, `${label} names no error`);
  // Beside the field: the error follows the input in the same field.
  const adjacent = await input.evaluate((el, errorId) => el.nextElementSibling?.id === errorId, id);
  check(adjacent, `the error for ${label} is not beside it`);
  return page.locator(`#${id}`).innerText();
}

await journey('sign_in_errors', async (j) => {
  j.generate(50);
  const user = j.addUser({ email: 'mia.marketing@example.com', name: 'Mia Marketing', role: 'marketing', department: 'marketing' });
  await j.serve();
  const page = await j.newPage();
  await page.goto(j.url + '/sign-in');
  await j.ready(page);

  await page.getByLabel('E-mail').fill(user.email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const wrong = await errorBeside(page, 'Password');
  check(wrong.length > 0, 'the wrong password shows no text');
  check(page.url().endsWith('/sign-in'), `a wrong password left the sign-in page: ${page.url()}`);
  await j.axe(page, 'sign-in with a wrong password');
  await j.screenshot(page, 'sign-in-error.png');

  // An empty e-mail: the 422 names /email, shown beside the e-mail field.
  await page.getByLabel('E-mail').fill('');
  await page.getByLabel('Password').fill('whatever');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const empty = await errorBeside(page, 'E-mail');
  check(empty.length > 0, 'the empty e-mail shows no text');

  // Repeated failures lock the account for a while, and the page says how long.
  await page.getByLabel('E-mail').fill(user.email);
  let locked = '';
  for (let attempt = 0; attempt < 8 && !locked; attempt++) {
    await page.getByLabel('Password').fill(`wrong ${attempt}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.waitForFunction(() => !document.querySelector('button[type="submit"]')?.disabled);
    const alert = page.locator('.form-alert');
    if (await alert.isVisible()) locked = await alert.innerText();
  }
  check(/Too many failed sign-ins.*Try again in \d+ (minutes|seconds)/.test(locked), `no lockout message after repeated failures: "${locked}"`);
  await j.axe(page, 'sign-in locked out');
  await j.screenshot(page, 'sign-in-locked.png');
  // Even the right password waits out the lockout.
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForFunction(() => !document.querySelector('button[type="submit"]')?.disabled);
  check(page.url().endsWith('/sign-in'), 'a locked-out account signed in');
  j.assertNoPageProblems(page);
});

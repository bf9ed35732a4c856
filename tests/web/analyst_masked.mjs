// Journey: an analyst (no pii:read, no decide) opens a Customer 360. Personal
// data reads *** and the page says why; the page offers no next best action
// and no consent editing (the role may do neither); a search by name explains
// what the role may search by, and a search by id still finds the customer.
import { PASSWORD, check, journey } from './harness.mjs';

await journey('analyst_masked', async (j) => {
  j.generate(50);
  const analyst = j.addUser({ email: 'ada.analyst@example.com', name: 'Ada Analyst', role: 'analyst', department: 'analytics' });
  await j.serve();
  const page = await j.newPage();
  await page.goto(j.url + '/sign-in');
  await j.ready(page);
  await j.axe(page, 'sign-in');
  await page.getByLabel('E-mail').fill(analyst.email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: /Welcome/ }).waitFor();
  await j.ready(page);
  await j.axe(page, 'home');

  const search = page.getByRole('combobox', { name: 'Search customers' });
  await search.fill('Bauer');
  await page.getByRole('listbox', { name: 'Customers found' }).getByText('Your role may search by id or by an identifier').waitFor();
  await search.fill('2');
  await page.getByRole('option', { name: /#2 / }).waitFor();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/customers\/2$/);
  await j.ready(page);
  await page.getByRole('heading', { level: 1, name: 'Customer #2 (name hidden)' }).waitFor();
  check(await page.getByRole('note').filter({ hasText: 'Personal data is hidden for your role' }).isVisible(), 'no notice about hidden personal data');
  check((await page.locator('#profile .masked').count()) > 0, 'no attribute is shown as masked');
  check((await page.locator('#next-best-actions').count()) === 0, 'an analyst is offered next best actions');
  check((await page.locator('#consents').getByRole('button').count()) === 0, 'an analyst may edit consents');
  await j.axe(page, 'customer 360 with personal data hidden');
  await j.screenshot(page, 'customer-360-masked.png');
  j.assertNoPageProblems(page);
});

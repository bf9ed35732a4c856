// Journey: "as of" on the Customer 360 page. A marketer picks a date before a
// back-dated change of a customer's attribute and sees the value of then;
// today's page shows the new one; a date before the customer existed says so.
import { PASSWORD, check, journey } from './harness.mjs';

await journey('as_of', async (j) => {
  j.generate(300);
  const user = j.addUser({ email: 'max.marketing@example.com', name: 'Max Marketing', role: 'marketing', department: 'marketing' });
  await j.serve();

  // A customer with an attribute that changed, found through the API.
  let found = null;
  for (let id = 1; id <= 300 && !found; id++) {
    const h = await j.api('GET', `/v1/customers/${id}/history`);
    if (h.status !== 200) continue;
    const byName = new Map();
    for (const item of h.json.items) byName.set(item.name, [...(byName.get(item.name) ?? []), item]);
    for (const [name, items] of byName) {
      const values = items.filter((i) => typeof i.value === 'string' && i.value !== '');
      if (values.length < 2 || values[0].value === values[values.length - 1].value) continue;
      const before = values[values.length - 2];
      const after = values[values.length - 1];
      const day = (t) => t.slice(0, 10);
      if (day(before.validFrom) >= day(after.validFrom)) continue;
      found = { id, name, old: before.value, now: after.value, date: day(before.validFrom) };
      break;
    }
  }
  check(found, 'the demo has no customer with a changed attribute');

  const page = await j.newPage();
  await page.goto(`${j.url}/customers/${found.id}`);
  await page.getByLabel('E-mail').fill(user.email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(new RegExp(`/customers/${found.id}$`));
  await j.ready(page);
  const value = () => page.locator('#profile dt', { hasText: new RegExp(`^${found.name}$`) }).locator('xpath=following-sibling::dd[1]').innerText();
  check((await value()) === found.now, `today's ${found.name} is not ${found.now}: ${await value()}`);

  await page.getByLabel('As of', { exact: true }).fill(found.date);
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await page.waitForURL(new RegExp(`/customers/${found.id}\\?asOf=${found.date}$`));
  await j.ready(page);
  await page.getByText(`as of ${found.date}`).waitFor();
  check((await value()) === found.old, `${found.name} as of ${found.date} is not ${found.old}: ${await value()}`);
  await j.axe(page, 'customer 360 as of a date');
  await j.screenshot(page, 'customer-360-as-of.png');

  await page.getByLabel('As of', { exact: true }).fill('1990-01-01');
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: `Customer #${found.id} did not exist yet` }).waitFor();
  await j.ready(page);
  await j.axe(page, 'a customer before they existed');
  await page.getByRole('link', { name: 'Today' }).click();
  await page.waitForURL(new RegExp(`/customers/${found.id}$`));
  await j.ready(page);
  check((await value()) === found.now, `back to today, ${found.name} is not ${found.now}`);
  j.assertNoPageProblems(page);
});

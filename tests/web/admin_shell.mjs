// Journey: an administrator's shell. The navigation has every page the admin
// role may use (rules, users); the notification tray lists the open case
// assigned to them, and its link opens that customer's 360 page.
import { PASSWORD, check, journey } from './harness.mjs';

await journey('admin_shell', async (j) => {
  j.generate(50);
  const admin = j.addUser({ email: 'ida.admin@example.com', name: 'Ida Admin', role: 'admin', department: 'it' });
  await j.serve();
  const opened = await j.api('POST', '/v1/cases', { customerId: 2, team: 'service', title: 'Refund the double charge' });
  check(opened.status === 201, `opening a case: ${opened.text}`);
  const assigned = await j.api('PATCH', `/v1/cases/${opened.json.id}`, { assignee: admin.email, status: 'in_progress' });
  check(assigned.status === 200, `assigning the case: ${assigned.text}`);

  const page = await j.newPage();
  await page.goto(j.url + '/sign-in');
  await j.ready(page);
  await j.axe(page, 'sign-in');
  await page.getByLabel('E-mail').fill(admin.email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: /Welcome, Ida Admin/ }).waitFor();
  await j.ready(page);
  await j.axe(page, 'home');
  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const link of ['Home', 'Cases and alerts', 'Decision rules', 'Users']) {
    check(await nav.getByRole('link', { name: link }).isVisible(), `the admin's navigation lacks ${link}`);
  }
  await nav.getByRole('link', { name: 'Users' }).click();
  await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
  await j.ready(page);
  check(await page.getByRole('cell', { name: admin.email, exact: true }).isVisible(), 'the users page does not list the admin');
  await j.axe(page, 'users');
  await nav.getByRole('link', { name: 'Decision rules' }).click();
  await page.getByRole('heading', { level: 2, name: 'offers' }).waitFor();
  await j.ready(page);
  check(await page.getByRole('cell', { name: 'published', exact: true }).isVisible(), 'the rules page does not show the published version');
  await j.axe(page, 'decision rules');

  const tray = page.getByRole('button', { name: /^Notifications/ });
  await page.waitForFunction(() => document.querySelector('.tray-button .badge')?.textContent === '1');
  await tray.click();
  const panel = page.getByRole('region', { name: 'Notifications' });
  const link = panel.getByRole('link', { name: /Refund the double charge/ });
  await link.waitFor();
  await j.axe(page, 'notification tray');
  await j.screenshot(page, 'notifications.png');
  await link.click();
  await page.waitForURL(/\/customers\/2$/);
  await j.ready(page);
  check(await page.locator('#alerts-cases').getByText('Refund the double charge').isVisible(), 'the 360 page does not show the open case');
  await j.axe(page, 'customer 360 from the tray');
  j.assertNoPageProblems(page);
});

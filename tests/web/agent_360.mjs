// Journey: a service agent signs in, finds a customer with the keyboard
// search, opens the Customer 360, reads the next best action and why, records
// the customer's response, and the response is there (in the page, and
// through the API); then works the timeline filter and a consent, and signs out.
import { PASSWORD, check, journey } from './harness.mjs';

await journey('agent_360', async (j) => {
  j.generate();
  const agent = j.addUser({ email: 'sam.service@example.com', name: 'Sam Service', role: 'service', department: 'service' });
  await j.serve();

  // A person of the demo, found by name: the agent types it.
  const listing = await j.api('GET', '/v1/customers?kind=person&limit=50');
  check(listing.status === 200, `listing customers: ${listing.text}`);
  // The one with the most to explain (offers made and left out), for the docs' pictures.
  let target = null;
  let best = -1;
  for (const c of listing.json.items.filter((c) => c.displayName && c.displayName.split(' ').length === 2)) {
    const d = await j.api('POST', '/v1/decide', { customerId: c.id, channel: 'web', decisionPoint: 'web-home', explain: true });
    check(d.status === 200, `decide for #${c.id}: ${d.text}`);
    const richness = d.json.actions.length * 10 + d.json.explanation.removed.length;
    if (richness > best) [target, best] = [c, richness];
  }
  check(target, 'the demo has no person with a two-word name');

  const page = await j.newPage();
  await page.goto(j.url + '/');
  await page.waitForURL(/\/sign-in\?next=/);
  await j.ready(page);
  await j.axe(page, 'sign-in');
  await j.screenshot(page, 'sign-in.png');

  await page.getByLabel('E-mail').fill(agent.email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: /Welcome, Sam Service/ }).waitFor();
  await j.ready(page);
  // Navigation by role: a service agent has no page of rules or admin.
  const nav = page.getByRole('navigation', { name: 'Main' });
  check(await nav.getByRole('link', { name: 'Home' }).isVisible(), 'no Home in the navigation');
  check((await nav.getByRole('link', { name: 'Decision rules' }).count()) === 0, 'a service agent is offered the rules');
  check((await nav.getByRole('link', { name: 'Users' }).count()) === 0, 'a service agent is offered the users');
  await j.axe(page, 'home');
  // The skip link leads past the banner to the page, without leaving it.
  await page.evaluate(() => (document.activeElement instanceof HTMLElement ? document.activeElement.blur() : null));
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  check(await skip.evaluate((el) => el === document.activeElement), 'the first Tab does not reach the skip link');
  await page.keyboard.press('Enter');
  await page.waitForTimeout(100);
  const landed = await page.evaluate(() => [location.hash, document.activeElement?.id, document.activeElement?.tagName]);
  check(landed[0] === '#main' && landed[1] === 'main', `the skip link does not lead to the page: ${JSON.stringify(landed)}`);

  // The keyboard search: "/" focuses it, arrow keys and Enter pick the customer.
  await page.keyboard.press('/');
  const search = page.getByRole('combobox', { name: 'Search customers' });
  check(await search.evaluate((el) => el === document.activeElement), '"/" did not focus the search');
  await page.keyboard.type(target.displayName, { delay: 20 });
  const options = page.getByRole('listbox', { name: 'Customers found' }).getByRole('option');
  await options.first().waitFor();
  const labels = await options.allInnerTexts();
  const index = labels.findIndex((l) => new RegExp(`#${target.id}( |$)`, 'm').test(l));
  check(index >= 0, `the search for "${target.displayName}" did not list #${target.id}: ${JSON.stringify(labels)}`);
  await j.screenshot(page, 'search.png');
  for (let i = 0; i <= index; i++) await page.keyboard.press('ArrowDown');
  check((await search.getAttribute('aria-activedescendant')) !== null, 'the arrow keys did not move through the results');
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp(`/customers/${target.id}$`));
  await page.getByRole('heading', { level: 1, name: target.displayName }).waitFor();
  await j.ready(page);

  // The next best actions, with their explanation.
  const nba = page.locator('#next-best-actions');
  await nba.locator('li.action').first().waitFor();
  const first = nba.locator('li.action').first();
  const actionName = await first.getByRole('heading', { level: 3 }).innerText();
  const actionId = await first.getAttribute('data-action');
  const decisionId = await nba.getAttribute('data-decision-id');
  check(decisionId && decisionId.startsWith('dec_'), `the page shows no logged decision: ${decisionId}`);
  await j.axe(page, 'customer 360');
  await j.screenshot(page, 'customer-360.png');
  await nba.getByText('Why these actions').click();
  await nba.getByRole('heading', { name: 'Rules that matched' }).waitFor();
  check((await nba.locator('details.explanation').innerText()).includes('Next Offers'), 'the explanation does not name the decision');
  await j.axe(page, 'customer 360 with the explanation');
  // The section alone, from the whole page (so the sticky banner does not cover it).
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `${j.screens}/next-best-action.png`, fullPage: true, clip: await nba.boundingBox() });

  // The customer accepts: one click records it.
  await first.getByRole('group', { name: `Response to ${actionName}` }).getByRole('button', { name: 'Accepted' }).click();
  await first.getByRole('status').filter({ hasText: 'Response recorded: accepted' }).waitFor();

  // Through the API: the response is stored (a second one for the same offer is refused)
  // and the action's propensity learned from it (Beta(1, 9) prior: 1/10 before, 2/11 after).
  const again = await j.api('POST', '/v1/responses', { decisionId, actionId, outcome: 'accepted' });
  check(again.status === 409, `a second response to ${decisionId}/${actionId} should be 409, got ${again.status}: ${again.text}`);
  const decided = await j.api('POST', '/v1/decide', { customerId: target.id, channel: 'web', decisionPoint: 'web-home', explain: true });
  check(decided.status === 200, `decide: ${decided.text}`);
  const scored = decided.json.explanation.scored.find((a) => a.actionId === actionId);
  check(scored && Math.abs(scored.components.propensity - 2 / 11) < 1e-9, `the propensity of ${actionId} is not 2/11 after one acceptance: ${JSON.stringify(scored)}`);

  // The timeline has the page's decision; its filter hides a type.
  await page.reload();
  await j.ready(page);
  const timeline = page.locator('#timeline');
  await timeline.getByText(`Decision at web-home`).first().waitFor();
  const transactions = await timeline.locator('li.tl-transaction').count();
  await timeline.getByRole('checkbox', { name: /^Transactions/ }).uncheck();
  check((await timeline.locator('li.tl-transaction').count()) === 0, 'the Transactions filter did not hide transactions');
  await timeline.getByRole('checkbox', { name: /^Transactions/ }).check();
  check((await timeline.locator('li.tl-transaction').count()) === transactions, 'the Transactions filter did not bring them back');

  // A consent recorded from the page is the customer's.
  const consents = page.locator('#consents');
  await consents.getByLabel('Channel', { exact: true }).fill('sms');
  await consents.getByLabel('Consent', { exact: true }).selectOption('false');
  await consents.getByRole('button', { name: 'Record consent' }).click();
  await consents.getByRole('row', { name: /sms/ }).getByText('withdrawn').waitFor();
  const view = await j.api('GET', `/v1/customers/${target.id}/view`);
  const sms = view.json.consents.find((c) => c.channel === 'sms' && c.purpose === 'marketing');
  check(sms && sms.granted === false && sms.source === 'workspace', `the consent is not stored: ${JSON.stringify(view.json.consents)}`);

  // Recent items remember the customer; sign-out ends the session on the server.
  check(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: target.displayName }).isVisible(), 'the customer is not among the recent items');
  j.assertNoPageProblems(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { level: 1, name: 'Sign in to the workspace' }).waitFor();
  await j.ready(page);
  await j.axe(page, 'sign-in after signing out');
  const after = await page.evaluate(async () => (await fetch('/v1/session')).status);
  check(after === 401, `after signing out GET /v1/session answered ${after}`);
});

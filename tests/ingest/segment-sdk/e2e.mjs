// Segment's own Node SDK (@segment/analytics-node) pointed at a running
// Rapport server with its `host` option: identify, track, page, screen,
// group and alias calls, then the customer's 360 view must hold them all.
// Environment: RAPPORT_URL, RAPPORT_WRITE_KEY, RAPPORT_ADMIN_KEY.
import { Analytics } from '@segment/analytics-node';

const url = process.env.RAPPORT_URL;
const writeKey = process.env.RAPPORT_WRITE_KEY;
const adminKey = process.env.RAPPORT_ADMIN_KEY;

function fail(message) {
  console.error(`segment-sdk e2e: ${message}`);
  process.exit(1);
}

const analytics = new Analytics({ writeKey, host: url, flushAt: 3, maxRetries: 0 });
const errors = [];
analytics.on('error', (err) => errors.push(err));
const rejected = [];
analytics.on('http_request', (req) => {
  if (!req.url.endsWith('/v1/batch')) rejected.push(`unexpected path ${req.url}`);
});

const anonymousId = 'anon-sdk-1';
const userId = 'sdk-user-42';
analytics.page({ anonymousId, name: 'Pricing', properties: { path: '/pricing', url: 'https://shop.example/pricing' } });
analytics.identify({ anonymousId, userId, traits: { email: 'Ines.Sdk@Example.com', firstName: 'Ines', lastName: 'Sdk' } });
analytics.track({
  userId,
  event: 'Order Completed',
  properties: {
    order_id: 'sdk-order-1', currency: 'EUR', revenue: 42,
    products: [{ product_id: 'p1', sku: 'SKU-1', name: 'Teapot', price: 21, quantity: 2, category: 'Kitchen' }],
  },
});
analytics.screen({ userId, name: 'Settings' });
analytics.group({ userId, groupId: 'sdk-org-7', traits: { name: 'Teapot Works', industry: 'Retail' } });
analytics.alias({ userId, previousId: 'legacy-sdk-42' });
await analytics.closeAndFlush({ timeout: 20000 });
if (errors.length) fail(`the SDK reported errors: ${errors.map((e) => JSON.stringify(e.reason?.message ?? e)).join('; ')}`);
if (rejected.length) fail(rejected.join('; '));

async function get(path) {
  const res = await fetch(url + path, { headers: { Authorization: `Bearer ${adminKey}` } });
  if (res.status !== 200) fail(`GET ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

const found = await get(`/v1/customers?q=${encodeURIComponent('segment.user:' + userId)}`);
if (found.items.length !== 1) fail(`no customer for ${userId}: ${JSON.stringify(found)}`);
const view = await get(`/v1/customers/${found.items[0].id}/view`);
const events = view.sections?.recentEvents ?? [];
const types = new Set(events.map((e) => e.type));
for (const t of ['identify', 'track', 'page', 'screen', 'group', 'alias']) {
  if (!types.has(t)) fail(`the 360 view lacks the ${t} call: ${JSON.stringify(events)}`);
}
const page = events.find((e) => e.type === 'page');
if (page.touchPoint !== '/pricing' || page.channel !== 'web') fail(`the anonymous page view is wrong: ${JSON.stringify(page)}`);
if (view.customer.attributes.email !== 'ines.sdk@example.com') fail(`traits not applied: ${JSON.stringify(view.customer)}`);
if (view.transactionSummary.count !== 1 || view.transactionSummary.revenue !== 42) {
  fail(`the order is not a transaction: ${JSON.stringify(view.transactionSummary)}`);
}
if (!view.links.some((l) => l.relationship.type === 'works_for' && l.customer.displayName === 'Teapot Works')) {
  fail(`the group is not a works_for link: ${JSON.stringify(view.links)}`);
}
console.log(`segment-sdk e2e: ${events.length} events from @segment/analytics-node on customer ${found.items[0].id}`);

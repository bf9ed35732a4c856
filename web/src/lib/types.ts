// The JSON shapes of the /v1/ routes the workspace reads (docs/api.md,
// docs/decisioning.md, docs/triggers.md), as the server writes them.

export interface User {
  id: number;
  email: string;
  name: string;
  department: string;
  roles: string[];
  disabled: boolean;
  createdAt: string;
}

export interface Session {
  user: User;
  permissions: string[];
  csrfToken: string;
  expiresAt: string;
}

export type Kind = 'person' | 'household' | 'organization';
export type AttributeValue = string | number | boolean | null;

export interface Customer {
  id: number;
  kind: Kind;
  displayName: string;
  attributes: Record<string, AttributeValue>;
  identifiers: string[];
  createdAt: string;
  updatedAt: string;
}

export interface CustomerSummary {
  id: number;
  kind: Kind;
  displayName: string;
  email?: string;
  phone?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Relationship {
  id: number;
  from: number;
  to: number;
  type: string;
  role?: string;
  validFrom: string | null;
  validTo: string | null;
  source: string;
}

export interface Link {
  relationship: Relationship;
  customer: CustomerSummary;
  members: CustomerSummary[];
}

export interface Account {
  id: number;
  product: string;
  status: string;
  openedAt: string | null;
  closedAt: string | null;
  balance: number;
  currency: string;
}

export interface Transaction {
  id: number;
  occurredAt: string;
  channel?: string;
  location?: string;
  sku?: string;
  item?: string;
  category?: string;
  quantity: number;
  amount: number;
  currency: string;
  source: string;
}

export interface Interaction {
  id: number;
  occurredAt: string;
  agent?: string;
  department?: string;
  type: string;
  purpose?: string;
  channel: string;
  touchPoint?: string;
  direction?: string;
  reason?: string;
  campaign?: string;
  outcome?: string;
  source: string;
}

export interface Consent {
  customerId: number;
  channel: string;
  purpose: string;
  granted: boolean;
  at: string;
  source: string;
}

export interface TrackedEvent {
  seq: number;
  type: string;
  event: string;
  channel: string;
  touchPoint: string;
  messageId: string;
  timestamp: string;
}

export interface LoggedDecision {
  decisionId: string;
  decisionPoint: string;
  channel: string;
  model: { name: string; version: number };
  actions: string[];
  at: string;
}

export interface CaseItem {
  id: number;
  customerId: number;
  kind: string;
  team: string;
  title: string;
  priority: string;
  status: string;
  assignee: string | null;
  dueAt: string | null;
  createdAt: string;
}

export interface Alert {
  id: number;
  customerId: number;
  severity: string;
  message: string;
  createdAt: string;
  acknowledgedAt: string | null;
}

export interface CustomerView {
  customer: Customer;
  links: Link[];
  members: CustomerSummary[];
  accounts: Account[];
  transactionSummary: {
    count: number;
    revenue: number;
    firstPurchase: string | null;
    lastPurchase: string | null;
    topItems: { sku: string; item: string; quantity: number; revenue: number }[];
  };
  recentTransactions: Transaction[];
  recentInteractions: Interaction[];
  consents: Consent[];
  sections: {
    segments?: { id: number; name: string }[];
    recentEvents?: TrackedEvent[];
    recentDecisions?: LoggedDecision[];
    cases?: { openCases: number; items: CaseItem[] };
    alerts?: Alert[];
    identity?: { goldenId: number; members: number[] } | null;
    [name: string]: unknown;
  };
}

export interface ScoredAction {
  actionId: string;
  name: string;
  kind: string;
  purpose: string;
  score: number;
  components: Record<string, number>;
}

export interface Decision {
  decisionId?: string;
  customerId: number;
  decisionPoint: string;
  channel: string;
  model: { name: string; version: number };
  at: string;
  controlGroup: boolean;
  actions: ScoredAction[];
  explanation?: {
    model: { name: string; version: number; decision: string };
    inputs: Record<string, unknown>;
    rulesMatched: { decision: string; hitPolicy: string; rules: { rule: number; ruleId?: string }[]; result: unknown }[];
    candidates: string[];
    scored: ScoredAction[];
    removed: { actionId: string; stage: string; by: string; reason: string }[];
    messages: string[];
  };
}

export interface DecisionPoint {
  name: string;
  model: string;
  decision: string;
  channels: string[];
  showIn360?: boolean;
}

export interface ResponseRecord {
  id: number;
  decisionId: string;
  actionId: string;
  outcome: string;
  at: string;
}

// What roles without pii:read read instead of personal data.
export const MASKED = '***';

// Which page answers which #/path, what it needs, and what the navigation shows.

import { dashboardPage } from "./pages/dashboard.js";
import { eventsPage } from "./pages/events.js";
import { loginPage, passwordPage, totpPage } from "./pages/login.js";
import { operationPage, operationsPage } from "./pages/operations.js";
import { participantPage, participantsPage, walletPage } from "./pages/participants.js";

export const ROUTES = [
  { pattern: /^login$/, page: loginPage },
  { pattern: /^password$/, page: passwordPage },
  { pattern: /^totp$/, page: totpPage },
  { pattern: /^dashboard$/, page: dashboardPage, capability: "dashboard.view" },
  { pattern: /^participants$/, page: participantsPage, capability: "participants.view" },
  { pattern: /^participants\/([^/]+)$/, page: participantPage, capability: "participants.view" },
  { pattern: /^wallets\/([^/]+)$/, page: walletPage, capability: "participants.view" },
  { pattern: /^operations$/, page: operationsPage, capability: "operations.view" },
  { pattern: /^operations\/([^/]+)$/, page: operationPage, capability: "operations.view" },
  { pattern: /^events$/, page: eventsPage, capability: "events.view" },
];

export const NAV = [
  { path: "dashboard", label: "nav.dashboard", capability: "dashboard.view" },
  { path: "participants", label: "nav.participants", capability: "participants.view" },
  { path: "operations", label: "nav.operations", capability: "operations.view" },
  { path: "events", label: "nav.events", capability: "events.view" },
];

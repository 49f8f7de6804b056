// Which page answers which #/path, what it needs, and what the navigation shows.

import { amlCasePage, amlPage } from "./pages/aml.js";
import { dashboardPage } from "./pages/dashboard.js";
import { disputeNewPage, disputePage, disputesPage } from "./pages/disputes.js";
import { documentPage, documentsPage } from "./pages/documents.js";
import { eventsPage } from "./pages/events.js";
import { incidentNewPage, incidentPage, incidentsPage } from "./pages/incidents.js";
import { journalsPage } from "./pages/journals.js";
import { loginPage, passwordPage, totpPage } from "./pages/login.js";
import { operationPage, operationsPage } from "./pages/operations.js";
import { participantPage, participantsPage, walletPage } from "./pages/participants.js";
import { reportsPage } from "./pages/reports.js";
import { searchPage } from "./pages/search.js";
import { staffPage, staffUserPage } from "./pages/staff.js";

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
  { pattern: /^search$/, page: searchPage, capability: "search.view" },
  { pattern: /^journals$/, page: journalsPage, capability: "journals.view" },
  { pattern: /^reports$/, page: reportsPage, capability: "reports.view" },
  { pattern: /^incidents$/, page: incidentsPage, capability: "incidents.view" },
  { pattern: /^incidents\/new$/, page: incidentNewPage, capability: "incidents.record" },
  { pattern: /^incidents\/([^/]+)$/, page: incidentPage, capability: "incidents.view" },
  { pattern: /^disputes$/, page: disputesPage, capability: "disputes.view" },
  { pattern: /^disputes\/new$/, page: disputeNewPage, capability: "disputes.act" },
  { pattern: /^disputes\/([^/]+)$/, page: disputePage, capability: "disputes.view" },
  { pattern: /^documents$/, page: documentsPage, capability: "documents.view" },
  { pattern: /^documents\/([^/]+)$/, page: documentPage, capability: "documents.view" },
  { pattern: /^staff$/, page: staffPage, capability: "staff.view" },
  { pattern: /^staff\/([^/]+)$/, page: staffUserPage, capability: "staff.view" },
  { pattern: /^aml$/, page: amlPage, capability: "aml.view" },
  { pattern: /^aml\/([^/]+)$/, page: amlCasePage, capability: "aml.view" },
];

export const NAV = [
  { path: "dashboard", label: "nav.dashboard", capability: "dashboard.view" },
  { path: "search", label: "nav.search", capability: "search.view" },
  { path: "participants", label: "nav.participants", capability: "participants.view" },
  { path: "operations", label: "nav.operations", capability: "operations.view" },
  { path: "journals", label: "nav.journals", capability: "journals.view" },
  { path: "reports", label: "nav.reports", capability: "reports.view" },
  { path: "incidents", label: "nav.incidents", capability: "incidents.view" },
  { path: "aml", label: "nav.aml", capability: "aml.view" },
  { path: "disputes", label: "nav.disputes", capability: "disputes.view" },
  { path: "documents", label: "nav.documents", capability: "documents.view" },
  { path: "events", label: "nav.events", capability: "events.view" },
  { path: "staff", label: "nav.staff", capability: "staff.view" },
];

// Dashboard cards for deadlines: overdue incident reports and AML cases (filled in when those
// endpoints exist; see cases.md of the operator service).

export function deadlineWidgets(_session) {
  return [];
}

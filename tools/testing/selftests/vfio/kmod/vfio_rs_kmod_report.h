/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The report of the test-only modules: one "name ok" or "name FAIL detail" line per check,
 * read by the kselftest from the module's read-only "report" parameter.
 */
#ifndef VFIO_RS_KMOD_REPORT_H
#define VFIO_RS_KMOD_REPORT_H

#include <linux/kernel.h>
#include <linux/sprintf.h>

static char report[4096];
static size_t report_len;

/* Appends one check's line; fmt and what follows detail a failure. */
static __printf(3, 4) void note(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	report_len += scnprintf(report + report_len, sizeof(report) - report_len,
				"%s %s", name, ok ? "ok" : "FAIL ");
	if (!ok) {
		va_start(ap, fmt);
		report_len += vscnprintf(report + report_len,
					 sizeof(report) - report_len, fmt, ap);
		va_end(ap);
	}
	report_len += scnprintf(report + report_len, sizeof(report) - report_len, "\n");
}

#endif

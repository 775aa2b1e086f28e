/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the policy file (vmsight check --policy). The input is
 * the file's text, not NUL-terminated; a parsed policy is queried for
 * every check before it is freed. Seeds: tests/lab/lab.policy and the
 * policies of test_policy.
 */
#include <stdint.h>
#include <stdio.h>

#include <vmsight/vmsight.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vms_policy *p = NULL;
	enum vms_severity sev;
	char err[256];

	if (vms_policy_parse((const char *)data, size, "fuzz", &p, err,
			     sizeof(err)) == 0) {
		for (size_t i = 0; i < vms_check_count(); i++) {
			struct vms_check_desc d = { .sz = sizeof(d) };
			if (!vms_check_get(i, &d))
				vms_policy_runs(p, d.name);
		}
		vms_policy_fail_on(p, &sev);
	}
	vms_policy_destroy(p);
	return 0;
}

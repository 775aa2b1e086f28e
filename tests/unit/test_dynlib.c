/* SPDX-License-Identifier: MIT */
/*
 * Libraries opened on first use (src/core/dynlib.c): a library and its
 * symbols are resolved once; a missing library or symbol is an error
 * that names what needed it, and stays one on later calls.
 */
#include "testutil.h"
#include "../../src/core/dynlib.h"

static struct {
	const char *(*zlibVersion)(void);
} Z;

static void present_library_resolves_once(void **state)
{
	const struct vms_dynsym syms[] = { VMS_DYNSYM(Z, zlibVersion) };
	struct vms_dynlib lib = { .soname = "libz.so.1", .what = "a test",
				  .syms = syms, .nsyms = 1 };
	struct vms_ctx ctx;
	(void)state;

	vms_ctx_init(&ctx);
	assert_int_equal(vms_dynlib_load(&ctx, &lib), 0);
	assert_non_null(Z.zlibVersion);
	assert_true(Z.zlibVersion()[0] >= '1');
	assert_int_equal(lib.state, 1);
	assert_int_equal(vms_dynlib_load(&ctx, &lib), 0);
}

static void missing_library_or_symbol_is_an_error(void **state)
{
	void *slot = NULL;
	const struct vms_dynsym none[] = { { "nothing", &slot } };
	struct vms_dynlib gone = { .soname = "libvmsight-no-such.so.0",
				   .what = "the test check", .syms = none,
				   .nsyms = 1 };
	struct vms_dynlib nosym = { .soname = "libz.so.1", .what = "a test",
				    .syms = none, .nsyms = 1 };
	struct vms_ctx ctx;
	(void)state;

	vms_ctx_init(&ctx);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(vms_dynlib_load(&ctx, &gone), -ENOSYS);
		assert_non_null(strstr(ctx.err.msg, "the test check needs "
					"libvmsight-no-such.so.0"));
		vms_err_clear(&ctx);
	}
	assert_int_equal(vms_dynlib_load(&ctx, &nosym), -ENOSYS);
	assert_non_null(strstr(ctx.err.msg, "no nothing"));
	assert_null(slot);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(present_library_resolves_once),
		cmocka_unit_test(missing_library_or_symbol_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

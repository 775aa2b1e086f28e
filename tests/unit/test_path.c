/* SPDX-License-Identifier: MIT */
/*
 * The d_path-style walker on synthetic dentries and mounts: a path that
 * crosses a mount point, the namespace root, a dentry cycle, a mount
 * cycle, a name longer than NAME_MAX, and a path longer than the buffer;
 * and d_path()'s " (deleted)" suffix for unhashed dentries.
 */
#include "fakekernel.h"

/* Offsets unlike the kernel's. */
static const struct vms_layout L = {
	.list_next = 0, .list_prev = 8,
	.mnt_vfs = 32, .vfs_root = 0, .mnt_parent = 8, .mnt_mountpoint = 16,
	.d_parent = 48, .d_name = 16, .d_len = 8, .d_hash_pprev = 56,
};

#define OBJ(i) (FK_DATA_VA + 0x100 * (uint64_t)(i))
#define NAMES (FK_DATA_VA + 0x10000)

static uint64_t name_at;

static void dentry(struct fake *f, int i, int parent, const char *name)
{
	uint8_t *d = fk_at(f, OBJ(i));
	uint64_t np = NAMES + name_at;
	memcpy(fk_at(f, np), name, strlen(name));
	name_at += strlen(name) + 1;
	fk_put64(d + 48, OBJ(parent));
	fk_put64(d + 16, np);
	fk_put32(d + 8, (uint32_t)strlen(name));
	fk_put64(d + 56, OBJ(parent) + 64); /* hashed: any non-NULL pprev */
}

static void mount(struct fake *f, int i, int parent, int mountpoint,
		  int root)
{
	uint8_t *m = fk_at(f, OBJ(i));
	fk_put64(m + 8, OBJ(parent));
	fk_put64(m + 16, OBJ(mountpoint));
	fk_put64(m + 32 + 0, OBJ(root));
}

/* Objects: 1 root mount R, 2 its root dentry, 3 "tmp", 4 mount M at
 * /tmp, 5 M's root dentry, 6 "inner", 7 "x". */
static void tree(struct fake *f)
{
	fk_build(f);
	name_at = 0;
	mount(f, 1, 1, 2, 2);
	dentry(f, 2, 2, "/");
	dentry(f, 3, 2, "tmp");
	mount(f, 4, 1, 3, 5);
	dentry(f, 5, 5, "/");
	dentry(f, 6, 5, "inner");
	dentry(f, 7, 6, "x");
}

static int path(struct fake *f, int mnt, int d, char *buf, size_t len)
{
	return vms_path_build(&f->k, OBJ(mnt) + 32, OBJ(d), OBJ(1), buf, len);
}

static void path_crosses_mount_points(void **state)
{
	struct fake f;
	char buf[256];
	(void)state;

	tree(&f);
	fk_open(&f, "x", 0, &L);
	assert_int_equal(path(&f, 4, 7, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/tmp/inner/x");
	assert_int_equal(path(&f, 4, 5, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/tmp");
	assert_int_equal(path(&f, 1, 2, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/");
	assert_int_equal(path(&f, 1, 3, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/tmp");
	fk_close(&f);
}

static int d_path(struct fake *f, int mnt, int d, char *buf, size_t len)
{
	return vms_path_d_path(&f->k, OBJ(mnt) + 32, OBJ(d), OBJ(1), buf,
			       len);
}

static void unlinked_dentries_are_marked_deleted(void **state)
{
	struct fake f;
	char buf[256];
	(void)state;

	tree(&f);
	fk_put64(fk_at(&f, OBJ(7)) + 56, 0);	/* "x" unlinked */
	fk_put64(fk_at(&f, OBJ(5)) + 56, 0);	/* M's root: IS_ROOT */
	fk_open(&f, "x", 0, &L);
	assert_int_equal(d_path(&f, 4, 7, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/tmp/inner/x (deleted)");
	assert_int_equal(d_path(&f, 4, 6, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/tmp/inner");
	assert_int_equal(d_path(&f, 4, 5, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/tmp");
	/* Room for the path but not for the suffix. */
	assert_int_equal(d_path(&f, 4, 7, buf, 20), -E2BIG);
	/* The walk alone never adds it. */
	assert_int_equal(path(&f, 4, 7, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/tmp/inner/x");
	fk_close(&f);
}

static void hostile_paths_end_with_errors(void **state)
{
	struct fake f;
	char buf[256];
	(void)state;

	/* Two dentries that are each other's parent. */
	tree(&f);
	dentry(&f, 8, 9, "a");
	dentry(&f, 9, 8, "b");
	fk_open(&f, "x", 0, &L);
	assert_int_equal(path(&f, 4, 8, buf, sizeof(buf)), -E2BIG);
	fk_close(&f);

	tree(&f);
	dentry(&f, 8, 9, "a");
	dentry(&f, 9, 8, "b");
	fk_open(&f, "x", 0, &L);
	{
		char big[1 << 15];
		assert_int_equal(path(&f, 4, 8, big, sizeof(big)), -ELOOP);
	}
	fk_close(&f);

	/* Mounts that are each other's parent, neither the root. */
	tree(&f);
	mount(&f, 10, 11, 12, 12);
	mount(&f, 11, 10, 12, 12);
	dentry(&f, 12, 12, "/");
	fk_open(&f, "x", 0, &L);
	assert_int_equal(path(&f, 10, 12, buf, sizeof(buf)), -ELOOP);
	fk_close(&f);

	/* A name longer than NAME_MAX. */
	tree(&f);
	fk_put32(fk_at(&f, OBJ(6)) + 8, 4000);
	fk_open(&f, "x", 0, &L);
	assert_int_equal(path(&f, 4, 7, buf, sizeof(buf)), -EBADMSG);
	assert_non_null(strstr(f.ctx.err.msg, "4000-byte name"));
	fk_close(&f);

	/* A buffer too small for the path. */
	tree(&f);
	fk_open(&f, "x", 0, &L);
	assert_int_equal(path(&f, 4, 7, buf, 8), -E2BIG);
	fk_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(path_crosses_mount_points),
		cmocka_unit_test(unlinked_dentries_are_marked_deleted),
		cmocka_unit_test(hostile_paths_end_with_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

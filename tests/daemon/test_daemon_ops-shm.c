/*
 * test_daemon_ops-shm.c: test_daemon_ops's tests of msync and System V
 * shared memory (shmget, shmat, shmdt, shmrm) through the daemon, with
 * their bad fields (test_daemon_ops.c's top comment).
 */
#include "test_daemon_ops.h"

/* --- msync and System V shared memory --------------------------------- */

static Aspace__Response *rq_msync(struct client *c, int task, bool all,
    uint64_t addr, uint64_t len, uint32_t flags)
{
	Aspace__MsyncRequest m = ASPACE__MSYNC_REQUEST__INIT;

	m.has_addr = true;
	m.addr = addr;
	m.has_length = all;
	m.length = len;
	m.has_flags = true;
	m.flags = flags;
	return cl_op(c, task, ASPACE__REQUEST__OP_MSYNC, &m);
}

static Aspace__Response *rq_shmget(struct client *c, const char *name,
    bool has_size, uint64_t size)
{
	Aspace__ShmgetRequest m = ASPACE__SHMGET_REQUEST__INIT;

	m.name = (char *)name;
	m.has_size = has_size;
	m.size = size;
	return cl_op(c, 0, ASPACE__REQUEST__OP_SHMGET, &m);
}

static Aspace__Response *rq_shmat(struct client *c, int task,
    const char *name, uint64_t addr, bool has_flags, uint32_t flags)
{
	Aspace__ShmatRequest m = ASPACE__SHMAT_REQUEST__INIT;

	m.name = (char *)name;
	m.has_addr = addr != 0;
	m.addr = addr;
	m.has_flags = has_flags;
	m.flags = flags;
	return cl_op(c, task, ASPACE__REQUEST__OP_SHMAT, &m);
}

static Aspace__Response *rq_shmdt(struct client *c, int task, bool has,
    uint64_t addr)
{
	Aspace__ShmdtRequest m = ASPACE__SHMDT_REQUEST__INIT;

	m.has_addr = has;
	m.addr = addr;
	return cl_op(c, task, ASPACE__REQUEST__OP_SHMDT, &m);
}

static Aspace__Response *rq_shmrm(struct client *c, const char *name)
{
	Aspace__ShmrmRequest m = ASPACE__SHMRM_REQUEST__INIT;

	m.name = (char *)name;
	return cl_op(c, 0, ASPACE__REQUEST__OP_SHMRM, &m);
}

/* The status message of a BAD_REQUEST answer names field. */
static void bad_field(const Aspace__Response *r, const char *field)
{
	assert_int_equal(code_of(r), ASPACE__STATUS__CODE__BAD_REQUEST);
	assert_non_null(r->status->message);
	assert_non_null(strstr(r->status->message, field));
}

/* The smaps text of the VMA at addr contains line. */
static void smaps_has(struct client *c, uint64_t addr, const char *line)
{
	Aspace__Response *resp = rq_smaps(OWN(c), 0, addr, 4096);

	assert_int_equal(code_of(resp), 0);
	assert_non_null(resp->smaps->text);
	if (strstr(resp->smaps->text, line) == NULL)
		fail_msg("no \"%s\" in\n%s", line, resp->smaps->text);
}

void test_msync(void **state)
{
	Aspace__Response *resp;
	struct client c;
	uint64_t addr;

	(void)state;
	cl_open(&c);
	assert_int_equal(code_of(rq_file(OWN(&c), 0, "db", 8192)), 0);
	/* MAP_SHARED | MAP_FIXED at BASE, nothing above it */
	resp = rq_mmap(OWN(&c), 0, BASE, 8192, PROT_RW, 0x11, "db");
	assert_int_equal(code_of(resp), 0);
	addr = resp->mmap->addr;
	assert_int_equal(code_of(rq_write(OWN(&c), 0, addr, "d", 1)), 0);
	/* One mapper: the page counts as private (mapcount 1). */
	smaps_has(&c, addr, "  Private_Dirty: 4 kB\n");
	/* MS_ASYNC writes nothing back; MS_SYNC cleans the page. */
	assert_int_equal(code_of(rq_msync(&c, 0, true, addr, 8192, 1)), 0);
	smaps_has(&c, addr, "  Private_Dirty: 4 kB\n");
	assert_int_equal(code_of(rq_msync(&c, 0, true, addr, 8192, 4)), 0);
	smaps_has(&c, addr, "  Private_Clean: 4 kB\n");
	smaps_has(&c, addr, "  Private_Dirty: 0 kB\n");
	/* Errors as Linux's: unaligned, both ASYNC and SYNC, a hole. */
	assert_true(is_errno(rq_msync(&c, 0, true, addr + 1, 4096, 4),
	    "EINVAL", 22));
	assert_true(is_errno(rq_msync(&c, 0, true, addr, 4096, 5), "EINVAL",
	    22));
	assert_true(is_errno(rq_msync(&c, 0, true, addr, 4096, 0x80), "EINVAL",
	    22));
	assert_true(is_errno(rq_msync(&c, 0, true, addr + 8192, 4096, 4),
	    "ENOMEM", 12));
	bad_field(rq_msync(&c, 0, false, addr, 0, 4), "length");
	assert_int_equal(code_of(rq_msync(&c, 9, true, addr, 4096, 4)),
	    ASPACE__STATUS__CODE__NO_SUCH_TASK);
	cl_close(&c);
}

void test_shm(void **state)
{
	Aspace__Response *resp;
	struct client c;
	uint64_t addr, ro;
	int child;

	(void)state;
	cl_open(&c);
	/* shmget: a new NAME; used twice, EEXIST; a bad size, EINVAL. */
	assert_int_equal(code_of(rq_shmget(&c, "seg", true, 8192)), 0);
	assert_true(is_errno(rq_shmget(&c, "seg", true, 4096), "EEXIST", 17));
	assert_true(is_errno(rq_shmget(&c, "zero", true, 0), "EINVAL", 22));
	bad_field(rq_shmget(&c, NULL, true, 4096), "name");
	bad_field(rq_shmget(&c, "a/b", true, 4096), "name");
	bad_field(rq_shmget(&c, "..", true, 4096), "name");
	bad_field(rq_shmget(&c, "ok", false, 0), "size");
	/* shmat: the kernel's address; the bytes shared with a fork child. */
	resp = rq_shmat(&c, 0, "seg", 0, true, 0);
	assert_int_equal(code_of(resp), 0);
	assert_int_equal(resp->result_case, ASPACE__RESPONSE__RESULT_SHMAT);
	addr = resp->shmat->addr;
	assert_true(addr != 0 && addr % 4096 == 0);
	assert_int_equal(code_of(rq_write(OWN(&c), 0, addr + 10, "sh", 2)), 0);
	child = do_clone(&c, 0, ASPACE__REQUEST__OP_FORK);
	resp = rq_read(OWN(&c), child, addr + 10, 2);
	assert_int_equal(code_of(resp), 0);
	assert_memory_equal(resp->read_bytes->data.data, "sh", 2);
	assert_int_equal(code_of(rq_write(OWN(&c), child, addr, "C", 1)), 0);
	resp = rq_read(OWN(&c), 0, addr, 1);
	assert_int_equal(resp->read_bytes->data.data[0], 'C');
	check_ok(&c, 2, 2);
	assert_true(is_errno(rq_shmat(&c, 0, "nosuch", 0, true, 0), "EINVAL",
	    22));
	assert_true(is_errno(rq_shmat(&c, 0, "seg", addr + 1, true, 0),
	    "EINVAL", 22));
	bad_field(rq_shmat(&c, 0, "seg", 0, false, 0), "flags");
	bad_field(rq_shmat(&c, 0, "", 0, true, 0), "name");
	/* SHM_RDONLY: a write faults. */
	resp = rq_shmat(&c, 0, "seg", 0, true, 010000);
	assert_int_equal(code_of(resp), 0);
	ro = resp->shmat->addr;
	resp = rq_write(OWN(&c), 0, ro, "x", 1);
	assert_non_null(resp->write_bytes->fault);
	/* shmrm while attached: SHM_DEST, the segment lives on (and may
	 * be removed again, as Linux's IPC_RMID); detached, it is gone. */
	assert_int_equal(code_of(rq_shmrm(&c, "seg")), 0);
	assert_int_equal(code_of(rq_shmrm(&c, "seg")), 0);
	assert_true(is_errno(rq_shmrm(&c, "nosuch"), "EINVAL", 22));
	bad_field(rq_shmrm(&c, NULL), "name");
	resp = rq_read(OWN(&c), child, addr + 10, 2);
	assert_memory_equal(resp->read_bytes->data.data, "sh", 2);
	/* shmdt: the attachment goes; a second time, EINVAL. */
	assert_int_equal(code_of(rq_shmdt(&c, 0, true, addr)), 0);
	assert_true(is_errno(rq_shmdt(&c, 0, true, addr), "EINVAL", 22));
	assert_true(is_errno(rq_shmdt(&c, 0, true, addr + 1), "EINVAL", 22));
	bad_field(rq_shmdt(&c, 0, false, 0), "addr");
	resp = rq_read(OWN(&c), 0, addr, 1);
	assert_non_null(resp->read_bytes->fault);
	check_ok(&c, 2, 2);
	assert_int_equal(code_of(rq_shmdt(&c, 0, true, ro)), 0);
	assert_int_equal(code_of(rq_simple(OWN(&c), child,
	    ASPACE__REQUEST__OP_EXIT)), 0);
	assert_true(is_errno(rq_shmat(&c, 0, "seg", 0, true, 0), "EINVAL",
	    22));
	cl_close(&c);
}

/*
 * req-table.c: the table of requests (req.h), indexed by op.  Each entry
 * lives in its own daemon/req-*.c; an op with no entry is answered
 * UNIMPLEMENTED.
 */
#include <stddef.h>

#include "req.h"

static const struct request_entry *const req_entries[] = {
	&req_hello_entry,
	&req_session_create_entry,
	&req_session_destroy_entry,
	&req_session_list_entry,
	&req_run_trace_entry,
	&req_maps_entry,
	&req_mmap_entry,
	&req_munmap_entry,
	&req_access_entry,
	&req_fork_entry,
	&req_exit_entry,
	&req_mprotect_entry,
	&req_mremap_entry,
	&req_madvise_entry,
	&req_mlock_entry,
	&req_munlock_entry,
	&req_brk_entry,
	&req_read_bytes_entry,
	&req_write_bytes_entry,
	&req_thread_entry,
	&req_vfork_entry,
	&req_exec_entry,
	&req_smaps_entry,
	&req_proc_status_entry,
	&req_page_walk_entry,
	&req_counters_entry,
	&req_file_create_entry,
	&req_check_entry,
	&req_kernel_entry,
	&req_msync_entry,
	&req_shmget_entry,
	&req_shmat_entry,
	&req_shmdt_entry,
	&req_shmrm_entry,
	&req_grade_entry,
	&req_web_token_entry,
	&req_pages_entry,
	&req_mt_entry,
};

#define REQ_NENTRIES (sizeof(req_entries) / sizeof(req_entries[0]))
#define REQ_MAX_OP 64

/* op -> entry, built on first use from req_entries. */
static const struct request_entry *by_op[REQ_MAX_OP];
static pthread_once_t by_op_once = PTHREAD_ONCE_INIT;

static void build_index(void)
{
	size_t i;

	for (i = 0; i < REQ_NENTRIES; i++)
		if (req_entries[i]->op > 0 && req_entries[i]->op < REQ_MAX_OP)
			by_op[req_entries[i]->op] = req_entries[i];
}

const struct request_entry *req_lookup(int op)
{
	pthread_once(&by_op_once, build_index);
	if (op <= 0 || op >= REQ_MAX_OP)
		return NULL;
	return by_op[op];
}

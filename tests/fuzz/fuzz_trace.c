// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: a trace file as `vfslock report` reads it, from the
 * header through the blocks, the META context and every record through the
 * pipeline (lock state, rule engine, report, aggregates). `make fuzz`
 * builds it with ASan and UBSan and runs it from tests/fuzz/mkseed's seeds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "replay.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vl_ruleset *rules;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vl_session s = { 0 };
	struct vl_replay r = { .s = &s };
	char err[512];
	json_object *o;
	FILE *f;

	if (!rules) {
		rules = rules_open("6.1", err, sizeof(err));
		if (!rules)
			abort();
	}
	if (!size)
		return 0;
	f = fmemopen((void *)data, size, "rb");
	if (!f)
		return 0;
	/* parsed once: the META block's own copy is the slow part, not the reader */
	s.rs = rules;
	if (replay_stream(&r, f, "fuzz.vlt", err, sizeof(err)) == 0 &&
	    replay_stream_end(&r, "fuzz.vlt", err, sizeof(err)) == 0) {
		o = session_result_json(&s);
		json_object_put(o);
	}
	fclose(f);
	replay_free(&r);
	s.rs = NULL;
	session_free(&s);
	return 0;
}

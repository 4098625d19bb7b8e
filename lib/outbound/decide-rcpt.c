/* outbound/decide-rcpt.c -- atsm_out_decide_rcpt(): a command address
 * that is wrong on its own, refused at RCPT (see outbound/decide.h). */
#include "outbound/decide-ctx.h"

int
atsm_out_decide_rcpt(const struct atsm_dir *dir, const struct atsm_conf *conf,
    const struct atsm_out_facts *f, const char *rcpt, struct atsm_refusal *r,
    struct atsm_err *err)
{
	(void)dir;
	(void)conf;
	(void)f;
	(void)rcpt;
	(void)r;
	(void)err;
	return 0;
}

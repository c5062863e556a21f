/* error.h: return codes shared by every layer */
#ifndef IL_ERROR_H
#define IL_ERROR_H

/*
 * Functions return 0 on success or one of these negative codes. Codes are
 * propagated unchanged on the way up; only the HTTP layer maps them to a
 * status.
 */
enum il_err {
	IL_OK = 0,
	IL_ERR = -1,       /* unexpected failure; details went to the log */
	IL_ENOMEM = -2,    /* allocation failed */
	IL_EINVALID = -3,  /* input rejected */
	IL_ENOTFOUND = -4, /* the named thing does not exist */
	IL_ECONFLICT = -5, /* state does not allow this now */
	IL_ETOOBIG = -6,   /* a limit was exceeded */
	IL_ESTALE = -7,    /* inputs changed since the object was made */
	IL_EUNAVAIL = -8   /* a dependency (database, provider) is down */
};

#endif

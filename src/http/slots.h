/* slots.h: how many long requests one host runs at once (a lock file per slot) */
#ifndef IL_SLOTS_H
#define IL_SLOTS_H

/*
 * Takes one of n slots: the lock files <dir>/apply-slot-<i>.lock (created
 * when missing), the first one free, held with flock() until slot_release,
 * or until the process dies (a SIGKILL too: the kernel drops the lock with
 * the descriptor). Every worker of the host that runs long requests shares
 * them, whichever pool it belongs to. Returns the slot's descriptor (>= 0),
 * IL_ECONFLICT when all n are taken, or IL_EUNAVAIL when dir cannot be used
 * (logged).
 */
int slot_take(const char *dir, long n);
/* Gives the slot back; a negative fd is ignored. */
void slot_release(int fd);

#endif

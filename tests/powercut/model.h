/* model.h — what a disk would still hold after a power cut.
 *
 * Every file and folder the mounted filesystem knows is a node with a
 * number that never changes (renames keep it; nodes are never freed, an
 * unlinked node may come back in a cut).  A node keeps two states:
 *   - durable: for a file its content as of its last fsync/fdatasync (a copy
 *     in SHADOW/data/ID; none = empty), for a folder its name -> node map as
 *     of its last fsync;
 *   - pending: the operations since then, in order: for a file the writes
 *     and truncates (SHADOW/log/ID, data included), for a folder the adds,
 *     removes and renames of names (in memory, saved at unmount).
 * The live view is the backing folder itself; the model only follows it.
 * A cut rebuilds a folder from the durable state plus, per node, a prefix
 * of its pending operations (none, all, or a seeded random length).
 */
#ifndef POWERCUT_MODEL_H
#define POWERCUT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum dirop_type { DIROP_ADD, DIROP_DEL, DIROP_RENAME };

struct dirop {
        enum dirop_type type;
        char *name;             /* ADD/DEL: the name; RENAME: the old name */
        char *to;               /* RENAME: the new name (replaces what it names) */
        uint64_t child;         /* ADD/RENAME: the node */
};

struct dentry {
        char *name;
        uint64_t id;
};

struct node {
        uint64_t id;
        bool dir;
        mode_t mode;            /* the live mode (chmod is not modelled as pending) */
        bool has_data;          /* SHADOW/data/ID holds the durable content */
        int log_fd;             /* SHADOW/log/ID while open, else -1 */
        size_t n_pending;       /* file: records in the log */
        /* folders */
        struct dentry *live, *durable;
        size_t n_live, n_durable;
        struct dirop *ops;
        size_t n_ops;
};

/* Starts a model whose durable state is what BACKING holds now (a fresh
 * mount: a clean shutdown or a cut came before); SHADOW is emptied. */
int model_init(const char *backing, const char *shadow);
struct node *model_node(uint64_t id);
/* The node a live path ("/", "/jobs/x.json") names, or NULL. */
struct node *model_lookup(const char *path);

/* The live view changed (the backing folder already did): record it. */
struct node *model_created(const char *path, bool dir, mode_t mode);
void model_removed(const char *path);
void model_renamed(const char *from, const char *to);
int model_wrote(struct node *n, const void *data, size_t len, off_t off);
int model_truncated(struct node *n, off_t size);

/* fsync/fdatasync of a file: FD (the live file) becomes its durable content. */
int model_sync_file(struct node *n, int fd);
/* fsync of a folder: its current names become durable. */
void model_sync_dir(struct node *n);

/* Writes SHADOW/model (at unmount) so that a later cut can read it. */
int model_save(void);

enum keep { KEEP_NONE, KEEP_ALL, KEEP_RANDOM };
struct cut_stats {
        size_t files_pending, file_ops, file_ops_kept;
        size_t dirs_pending, dir_ops, dir_ops_kept;
};
/* Reads SHADOW/model and rebuilds INTO (emptied first) as the disk would
 * hold it.  Reproducible: the same model and seed give the same tree. */
int model_cut(const char *shadow, const char *into, enum keep keep, uint64_t seed, struct cut_stats *ret);

#endif

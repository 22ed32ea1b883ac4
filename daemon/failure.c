/* failure.c — see failure.h. */
#include "failure.h"
#include "util.h"

const char *failure_to_string(enum failure f) {
        static const char *const codes[] = {
#define FAILURE_CODE(name, code) [FAILURE_##name] = code,
                FAILURES(FAILURE_CODE)
#undef FAILURE_CODE
        };
        return (unsigned) f < ELEMENTSOF(codes) ? codes[f] : "unknown";
}

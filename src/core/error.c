/* Error texts. SPDX-License-Identifier: Apache-2.0 */
#include "mamori/mm_core.h"

const char *mm_strerror(int code)
{
    switch (code) {
#define MM_ERROR_CASE(sym, val, text)                                       \
    case sym:                                                               \
        return text;
        MM_ERROR_TABLE(MM_ERROR_CASE)
#undef MM_ERROR_CASE
    }
    return "unknown error";
}

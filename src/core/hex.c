/* Hex encoding. SPDX-License-Identifier: Apache-2.0 */
#include "mamori/mm_core.h"

void mm_hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

int mm_hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int mm_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t outlen)
{
    MM_ENSURE(hex && out && hexlen == 2 * outlen, MM_EMALFORMED);
    for (size_t i = 0; i < outlen; i++) {
        int hi = mm_hex_nibble(hex[2 * i]), lo = mm_hex_nibble(hex[2 * i + 1]);
        MM_ENSURE(hi >= 0 && lo >= 0, MM_EMALFORMED);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

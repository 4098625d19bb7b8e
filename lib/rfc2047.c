/* rfc2047.c -- placeholder until its module is written (lead). */

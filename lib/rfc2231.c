/* rfc2231.c -- placeholder until its module is written (lead). */

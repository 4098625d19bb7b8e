/* charset.c -- placeholder until its module is written (lead). */

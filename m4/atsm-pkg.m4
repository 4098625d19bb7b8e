dnl AX_ATSM_PKG(VAR, MODULES, DEBIAN-PACKAGE)
dnl pkg-config check that stops configure with a sentence naming the Debian
dnl package to install when the module is missing.
AC_DEFUN([AX_ATSM_PKG], [
  PKG_CHECK_MODULES([$1], [$2], [],
    [AC_MSG_ERROR([pkg-config module '$2' not found: install the Debian package $3])])
])

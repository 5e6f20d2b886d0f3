"""The build compiles the message catalogs (backend/locale/*/LC_MESSAGES/messages.po) into the .mo files
gettext reads at run time (backend/i18n.py); the rest of the build is pyproject.toml's."""

from babel.messages.setuptools_frontend import compile_catalog
from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithCatalogs(build_py):
    """build_py that compiles the catalogs first, so package-data carries the .mo files."""

    def run(self) -> None:
        self.run_command("compile_catalog")
        super().run()


setup(
    cmdclass={"build_py": BuildPyWithCatalogs, "compile_catalog": compile_catalog},
    options={"compile_catalog": {"directory": "backend/locale", "domain": "messages"}},
)

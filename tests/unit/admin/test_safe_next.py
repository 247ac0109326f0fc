"""Only local paths survive as the post-login destination."""

import pytest

from pavilion.runtime.admin.safe_next import safe_next

DEFAULT = "/admin/projects"


@pytest.mark.parametrize("target", ["/admin/projects/3", "/admin/projects?page=2", "/"])
def test_local_paths_are_kept(target: str) -> None:
    assert safe_next(target, DEFAULT) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "admin/projects",
        "/admin\r\nSet-Cookie: x=1",
        "/" + "a" * 3000,
    ],
)
def test_anything_else_falls_back(target: str | None) -> None:
    assert safe_next(target, DEFAULT) == DEFAULT

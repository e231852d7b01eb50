def test_login_page_renders_in_both_languages(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert 'lang="en"' in page.text and 'dir="ltr"' in page.text
    client.set_language("ar")
    page = client.get("/login")
    assert 'lang="ar"' in page.text and 'dir="rtl"' in page.text


def test_home_needs_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_signed_in_user_sees_home(client, login_as):
    user = login_as("admin")
    page = client.get("/")
    assert page.status_code == 200
    assert user.name in page.text

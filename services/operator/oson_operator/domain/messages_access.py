"""Message catalog of the access codes (see oson_operator.domain.messages)."""

from __future__ import annotations

from collections.abc import Mapping

from oson_operator.domain.messages import Language

CATALOG: Mapping[str, Mapping[Language, str]] = {
    # Authentication of every request.
    "NOT_AUTHENTICATED": {
        "kk": "Жүйеге кіріңіз: Authorization тақырыбы жоқ немесе қате",
        "ru": "Войдите в систему: заголовок Authorization отсутствует или неверен",
        "en": "Log in first: the Authorization header is missing or invalid",
    },
    "SESSION_EXPIRED": {
        "kk": "Сеанс аяқталды (шығу немесе {minutes} минут әрекетсіздік); қайта кіріңіз",
        "ru": "Сеанс завершён (выход или {minutes} минут бездействия); войдите снова",
        "en": "The session has ended (logout or {minutes} minutes idle); log in again",
    },
    "ROLE_FORBIDDEN": {
        "kk": "Бұл әрекет «{role}» рөліне рұқсат етілмеген",
        "ru": "Это действие не разрешено роли «{role}»",
        "en": "This action is not allowed for role '{role}'",
    },
    "PASSWORD_CHANGE_REQUIRED": {
        "kk": "Алдымен құпиясөзді ауыстырыңыз: POST /api/auth/password",
        "ru": "Сначала смените пароль: POST /api/auth/password",
        "en": "Change your password first: POST /api/auth/password",
    },
    "TOTP_ENROLLMENT_REQUIRED": {
        "kk": "Әкімшіге екінші фактор міндетті: POST /api/auth/totp/enroll, содан кейін /api/auth/totp/confirm",
        "ru": "Администратору обязателен второй фактор: POST /api/auth/totp/enroll, затем /api/auth/totp/confirm",
        "en": "Administrators need a second factor: POST /api/auth/totp/enroll, then /api/auth/totp/confirm",
    },
    # Login.
    "INVALID_CREDENTIALS": {
        "kk": "Логин немесе құпиясөз қате",
        "ru": "Неверный логин или пароль",
        "en": "Wrong login or password",
    },
    "ACCOUNT_LOCKED": {
        "kk": "Тіркелгі сәтсіз кірулерден кейін {until} дейін бұғатталды; күтіңіз немесе әкімшіге хабарласыңыз",
        "ru": "Учётная запись заблокирована после неудачных входов до {until}; подождите или обратитесь к "
        "администратору",
        "en": "The account is locked after failed logins until {until}; wait or ask an administrator to "
        "unlock it",
    },
    "ACCOUNT_DISABLED": {
        "kk": "Тіркелгі өшірілген; әкімшіге хабарласыңыз",
        "ru": "Учётная запись отключена; обратитесь к администратору",
        "en": "The account is disabled; ask an administrator",
    },
    "SOURCE_BLOCKED": {
        "kk": "Бұл мекенжайдан кіру {until} дейін бұғатталды (көп сәтсіз кіру); әкімшіге хабарласыңыз",
        "ru": "Вход с этого адреса заблокирован до {until} (много неудачных входов); обратитесь к "
        "администратору",
        "en": "Logins from this address are blocked until {until} (too many failed logins); ask an "
        "administrator",
    },
    "TOTP_REQUIRED": {
        "kk": "Аутентификатор қосымшасындағы бір реттік кодты (totp_code) енгізіңіз",
        "ru": "Введите одноразовый код из приложения-аутентификатора (totp_code)",
        "en": "Enter the one-time code from your authenticator app (totp_code)",
    },
    "TOTP_INVALID": {
        "kk": "Бір реттік код қате; қосымшадағы ағымдағы кодты енгізіңіз",
        "ru": "Неверный одноразовый код; введите текущий код из приложения",
        "en": "Wrong one-time code; enter the current code from the app",
    },
    "TOTP_REUSED": {
        "kk": "Бұл бір реттік код пайдаланылған; келесі кодты күтіңіз",
        "ru": "Этот одноразовый код уже использован; дождитесь следующего",
        "en": "This one-time code was already used; wait for the next one",
    },
    "TOTP_ALREADY_ENROLLED": {
        "kk": "Екінші фактор қосылған; ауыстыру үшін әкімші оны қалпына келтіруі керек",
        "ru": "Второй фактор уже подключён; для замены администратор должен его сбросить",
        "en": "A second factor is already enrolled; an administrator must reset it to replace it",
    },
    "TOTP_NOT_STARTED": {
        "kk": "Алдымен POST /api/auth/totp/enroll шақырыңыз",
        "ru": "Сначала вызовите POST /api/auth/totp/enroll",
        "en": "Call POST /api/auth/totp/enroll first",
    },
    # Password changes.
    "PASSWORD_REJECTED": {
        "kk": "Жаңа құпиясөз саясатқа сәйкес емес; төмендегі мәселелерді түзетіңіз",
        "ru": "Новый пароль не соответствует политике; исправьте перечисленные проблемы",
        "en": "The new password does not meet the policy; fix the problems listed",
    },
    "PASSWORD_TOO_SHORT": {
        "kk": "Құпиясөз кемінде {min_length} таңбадан тұруы керек",
        "ru": "Пароль должен содержать не менее {min_length} символов",
        "en": "The password must be at least {min_length} characters long",
    },
    "PASSWORD_CLASSES": {
        "kk": "Құпиясөзде 4 топтың кемінде {min_classes}-і болуы керек: бас әріп, кіші әріп, цифр, белгі",
        "ru": "Пароль должен содержать символы не менее {min_classes} из 4 групп: заглавные, строчные, "
        "цифры, спецсимволы",
        "en": "The password must use at least {min_classes} of 4 kinds: upper case, lower case, digits, "
        "symbols",
    },
    "PASSWORD_CONTAINS_LOGIN": {
        "kk": "Құпиясөзде логин болмауы керек",
        "ru": "Пароль не должен содержать логин",
        "en": "The password must not contain the login",
    },
    "PASSWORD_REUSED": {
        "kk": "Бұл құпиясөз соңғы {history} құпиясөздің бірі; жаңасын ойлап табыңыз",
        "ru": "Этот пароль совпадает с одним из {history} последних; придумайте новый",
        "en": "This password is one of your last {history}; choose a new one",
    },
    "CURRENT_PASSWORD_WRONG": {
        "kk": "Ағымдағы құпиясөз қате",
        "ru": "Текущий пароль указан неверно",
        "en": "The current password is wrong",
    },
    # Staff management.
    "STAFF_NOT_FOUND": {
        "kk": "«{login}» қызметкері табылмады",
        "ru": "Сотрудник «{login}» не найден",
        "en": "Staff user '{login}' not found",
    },
    "LOGIN_TAKEN": {
        "kk": "«{login}» логині бос емес",
        "ru": "Логин «{login}» уже занят",
        "en": "Login '{login}' is already taken",
    },
    "LOGIN_INVALID": {
        "kk": "Логин 2–64 таңба: латын әріптері, цифрлар, «.», «_», «-», әріппен не цифрмен басталады",
        "ru": "Логин: 2–64 символа из латинских букв, цифр, «.», «_», «-», начинается с буквы или цифры",
        "en": "A login is 2-64 characters: Latin letters, digits, '.', '_', '-', starting with a letter or "
        "digit",
    },
    "ROLE_INVALID": {
        "kk": "Қызметкер рөлі: admin, operator немесе auditor",
        "ru": "Роль сотрудника: admin, operator или auditor",
        "en": "A staff role is admin, operator or auditor",
    },
    "SELF_DISABLE": {
        "kk": "Әкімші өз тіркелгісін өшіре алмайды; мұны басқа әкімші жасауы керек",
        "ru": "Администратор не может отключить сам себя; это должен сделать другой администратор",
        "en": "Administrators cannot disable themselves; another administrator must do it",
    },
    "SELF_ROLE_CHANGE": {
        "kk": "Әкімші өз рөлін өзгерте алмайды; мұны басқа әкімші жасауы керек",
        "ru": "Администратор не может изменить свою роль; это должен сделать другой администратор",
        "en": "Administrators cannot change their own role; another administrator must do it",
    },
    # API clients (seed 003).
    "API_CLIENT_INVALID": {
        "kk": "Client ID немесе Client Secret қате",
        "ru": "Неверный Client ID или Client Secret",
        "en": "Wrong client id or client secret",
    },
    "API_CLIENT_BLOCKED": {
        "kk": "API клиенті бұғатталған; операторға хабарласыңыз (қалпына келтіру: құпияны қайта жасау)",
        "ru": "API-клиент заблокирован; обратитесь к оператору (восстановление: перевыпуск секрета)",
        "en": "The API client is blocked; contact the operator (a regenerated secret restores it)",
    },
    "API_CLIENT_DORMANT": {
        "kk": "API клиенті {days} күн пайдаланылмағандықтан бұғатталды; операторға құпияны қайта жасатыңыз",
        "ru": "API-клиент заблокирован: не использовался {days} дней; попросите оператора перевыпустить "
        "секрет",
        "en": "The API client was blocked after {days} days unused; ask the operator to regenerate the secret",
    },
    "API_CLIENT_NOT_FOUND": {
        "kk": "«{client_id}» API клиенті табылмады",
        "ru": "API-клиент «{client_id}» не найден",
        "en": "API client '{client_id}' not found",
    },
    "API_CLIENT_NAME_TAKEN": {
        "kk": "«{name}» интеграциясының API клиенті бар; бір интеграцияға бір Client ID",
        "ru": "У интеграции «{name}» уже есть API-клиент; один Client ID на интеграцию",
        "en": "Integration '{name}' already has an API client; one client id per integration",
    },
}
